"""A model card (Markdown) for an exported global model: what it is, where it comes from and
how to load it, in the spirit of the Hugging Face model card.

Every fact is read from the chain (the task's lineage up to the model's round: parents,
updates, rewards) and the manifest; metrics appear only when the exporter evaluated the model
on rows it names (``--eval-data``), never as a number without its rows.
"""

from __future__ import annotations

from typing import Any

from ledger.lineage_types import TaskLineage
from ledger.manifest import TaskManifest
from ledger.units import format_amount
from node.audit.dp_claims import expected_claim
from node.audit.views import contributors

__all__ = ["model_card"]


def _privacy(manifest: TaskManifest, lineage: TaskLineage, upto: int) -> str:
    dp = manifest.dp
    text = f"`{manifest.privacy}`" + (" (secure aggregation: only masked updates travel)"
                                      if manifest.privacy == "secure" else "")
    if dp is None:
        return text + "; no differential privacy"
    samples = [u.num_samples for r in lineage.rounds if r.round <= upto for u in r.updates]
    claim = expected_claim(manifest, rounds=upto, num_samples=min(samples or [1]))
    epsilon = float(claim["fedledger.dp.epsilon"])
    return (text + f"; differential privacy at the {dp.level} level: clip {dp.clip_norm:g}, "
            f"noise multiplier {dp.noise_multiplier:g}, epsilon {epsilon:.4g} at delta "
            f"{dp.delta:g} after {upto} round(s) (the largest over contributors)")


def model_card(manifest: TaskManifest, lineage: TaskLineage, round_: int, cid: str, *,
               deployment: dict[str, Any], files: dict[str, str],
               metrics: dict[str, Any] | None = None, eval_rows: str | None = None) -> str:
    """The card of ``cid``, finalized in ``round_`` of ``lineage.task`` (0: the genesis).

    Args:
        deployment: ``{"chain_id", "market"}`` where the lineage lives.
        files: format -> exported file name.
        metrics: ``EvalMetrics.as_dict()`` of the model on ``eval_rows``.
    """
    params, token = lineage.params, lineage.params.token
    rounds = [r for r in lineage.rounds if r.round <= round_]
    lines = [
        f"# fedledger model `{cid}`", "",
        (f"A `{manifest.architecture}` model ({dict(manifest.model_params)}) trained by federated "
        f"learning in task {lineage.task} on chain {deployment['chain_id']} (market "
        f"`{deployment['market']}`): round {round_} of {params.rounds}. No participant's data "
        f"left its node; only model updates travelled."), "",
        "## Lineage", "",
        f"- genesis (lineage root): `{lineage.genesis}`",
        f"- manifest: `{lineage.manifest}`",
    ]
    lines += [f"- round {r.round}: `{r.record.model}` from {len(r.updates)} updates, "
              f"{r.record.votes} matching reveals (quorum {params.quorum})" for r in rounds]
    lines += ["", (f"Verify it: `fedledger audit {cid} --replay` recomputes every round bit for "
                  "bit."), "", "## Training", "",
              f"- aggregation rule: `{manifest.aggregation}` {dict(manifest.aggregation_params)}",
              (f"- local training: {manifest.local_epochs} epoch(s) of `{manifest.optimizer}`, "
              f"lr {manifest.lr:g}, batch {manifest.batch_size}"),
              f"- rewards: `{manifest.reward_rule}`; bounty {format_amount(params.bounty, token)}",
              f"- privacy: {_privacy(manifest, lineage, round_)}", "",
              "## Contributors", "", "| participant | updates | samples | rewards claimed |",
              "|---|---:|---:|---:|"]
    lines += [f"| `{row['account']}` | {row['updates']} | {row['samples']} | "
              f"{format_amount(row['claimed'], token)} |" for row in contributors(rounds, token)
              if row["updates"] or row["claimed"]]
    lines += ["", "## Metrics", ""]
    if metrics is None:
        lines.append("Not evaluated at export (give `--eval-data CSV`).")
    else:
        auc = "n/a" if metrics.get("auc") is None else f"{metrics['auc']:.4f}"
        lines.append(f"On {metrics['n']} rows of `{eval_rows}`: accuracy "
                     f"{metrics['accuracy']:.4f}, AUC {auc}, log loss {metrics['loss']:.4f}.")
    lines += ["", "## Use it", "",
              ("Inputs are the task schema's encoded features (`fedledger predict` encodes raw "
              "CSV rows); outputs are logits (sigmoid: the positive class's propensity)."), ""]
    if "safetensors" in files:
        lines += ["```python", "from safetensors.torch import load_file",
                  f"weights = load_file({files['safetensors']!r})", "```"]
    if "onnx" in files:
        lines += ["```python", "import onnxruntime",
                  f"session = onnxruntime.InferenceSession({files['onnx']!r})",
                  "logits = session.run(None, {'features': x})[0]", "```"]
    if "torchscript" in files:
        lines += ["```python", "import torch", f"model = torch.jit.load({files['torchscript']!r})",
                  "logits = model(x)", "```"]
    return "\n".join(lines) + "\n"
