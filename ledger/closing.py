"""``Closing``: the context-manager half every seam to an external system shares."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Closing"]


class Closing:
    """``with obj:`` closes ``obj`` on exit; subclasses implement ``close``."""

    def close(self) -> None:
        """Release what the object holds. Idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
