// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Buttons marked data-confirm ask before submitting a destructive form.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  // A progress page reloads itself every few seconds, until the reader presses "Stop checking".
  const refresh = document.querySelector("[data-refresh-seconds]");
  if (refresh) {
    const key = "refresh-stopped:" + location.pathname + location.search;
    const stop = refresh.querySelector("[data-refresh-stop]");
    if (!sessionStorage.getItem(key)) {
      const seconds = Number(refresh.getAttribute("data-refresh-seconds"));
      const timer = window.setTimeout(() => window.location.reload(), seconds * 1000);
      stop.hidden = false;
      stop.addEventListener("click", () => {
        window.clearTimeout(timer);
        sessionStorage.setItem(key, "1");
        stop.hidden = true;
        refresh.querySelector("[data-refresh-note]").textContent = "Checking stopped.";
      });
    }
  }
});
