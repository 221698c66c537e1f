// fedledger explorer: swap in the page's main part whenever the chain moves (server-sent
// events), and count phase deadlines down between blocks. No framework, no external code.
"use strict";
(function () {
  const main = document.getElementById("main");
  const blockLabel = document.getElementById("block");
  let rendered = Date.now();

  function chainNow() {
    const snap = main.querySelector(".snapshot");
    const t = snap ? Number(snap.dataset.chainTime) : 0;
    return t + (Date.now() - rendered) / 1000;
  }

  function tick() {
    const now = chainNow();
    for (const el of main.querySelectorAll("[data-deadline]")) {
      const left = Math.max(0, Math.round(Number(el.dataset.deadline) - now));
      el.textContent = left + " s";
    }
  }

  let fetching = false, again = false;
  async function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    try {
      const reply = await fetch(location.pathname, {headers: {"X-Fragment": "1"}});
      if (reply.ok) {
        main.innerHTML = await reply.text();
        rendered = Date.now();
        const snap = main.querySelector(".snapshot");
        if (snap && blockLabel) blockLabel.textContent = snap.dataset.block;
        tick();
      }
    } catch (err) {
      // The explorer itself went away (demo stopped): keep the last page; EventSource retries.
    } finally {
      fetching = false;
      if (again) { again = false; refresh(); }
    }
  }

  if (window.EventSource) {
    const events = new EventSource("/events");
    let seen = null;
    events.addEventListener("change", (e) => {
      const version = JSON.parse(e.data).version;
      const snap = main.querySelector(".snapshot");
      if (seen === null && snap && Number(snap.dataset.version) === version) { seen = version; return; }
      seen = version;
      refresh();
    });
  }
  setInterval(tick, 1000);
  tick();
})();
