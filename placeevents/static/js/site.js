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

// An online event's time is shown in the enquiry's zone; where this browser is in another
// zone, add the visitor's own time beside it.
document.addEventListener("DOMContentLoaded", () => {
  let here;
  try {
    here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  document.querySelectorAll("time[data-zone][data-ends]").forEach((el) => {
    if (!here || el.dataset.zone === here) return;
    const start = new Date(el.getAttribute("datetime"));
    const end = new Date(el.dataset.ends);
    if (Number.isNaN(start.valueOf()) || Number.isNaN(end.valueOf())) return;
    const day = new Intl.DateTimeFormat("en-GB", {
      weekday: "short", day: "numeric", month: "long",
    });
    const clock = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });
    // A zone whose clocks read the same then (UTC beside London in winter) adds nothing.
    let theirs;
    try {
      theirs = new Intl.DateTimeFormat("en-GB", {
        weekday: "short", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
        timeZone: el.dataset.zone,
      });
    } catch (error) {
      return;
    }
    const mine = new Intl.DateTimeFormat("en-GB", {
      weekday: "short", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit",
    });
    if (theirs.format(start) === mine.format(start) && theirs.format(end) === mine.format(end)) {
      return;
    }
    // Named as the server names the enquiry's zone: "America/New_York" reads "New York time".
    const place = here.includes("/") ? here.split("/").pop().replace(/_/g, " ") : here;
    const zone = here === "UTC" || here === "Etc/UTC" ? "UTC" : `${place} time`;
    const sameDay = day.format(start) === day.format(end);
    const times = sameDay
      ? `${day.format(start)}, ${clock.format(start)}\u2013${clock.format(end)}`
      : `${day.format(start)}, ${clock.format(start)} \u2013 ${day.format(end)}, ${clock.format(end)}`;
    const text = `${times} (${zone})`;
    const yours = document.createElement("span");
    yours.className = "local-time";
    yours.textContent = `Your time: ${text}`;
    const holder = el.parentElement;
    holder.appendChild(document.createTextNode(" "));
    holder.appendChild(yours);
  });
});
