// Parse an iCalendar stream from stdin with ical.js (the parser Thunderbird uses); print JSON.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const text = readFileSync(0, "utf8");
const calendar = new ICAL.Component(ICAL.parse(text));

function person(property) {
  return {
    address: String(property.getFirstValue()),
    cn: property.getParameter("cn") ?? null,
    partstat: property.getParameter("partstat") ?? null,
    rsvp: property.getParameter("rsvp") ?? null,
  };
}

function instant(component, name) {
  const value = component.getFirstPropertyValue(name);
  if (!value) return null;
  return { utc: value.toJSDate().toISOString(), zone: value.zone ? value.zone.tzid : null };
}

const events = calendar.getAllSubcomponents("vevent").map((vevent) => ({
  uid: vevent.getFirstPropertyValue("uid"),
  summary: vevent.getFirstPropertyValue("summary"),
  description: vevent.getFirstPropertyValue("description"),
  location: vevent.getFirstPropertyValue("location"),
  url: vevent.getFirstPropertyValue("url"),
  status: vevent.getFirstPropertyValue("status"),
  sequence: vevent.getFirstPropertyValue("sequence"),
  dtstamp: instant(vevent, "dtstamp"),
  dtstart: instant(vevent, "dtstart"),
  dtend: instant(vevent, "dtend"),
  organizer: vevent.getFirstProperty("organizer") ? person(vevent.getFirstProperty("organizer")) : null,
  attendees: vevent.getAllProperties("attendee").map(person),
  conference: vevent.getFirstPropertyValue("conference"),
}));

process.stdout.write(
  JSON.stringify({
    version: calendar.getFirstPropertyValue("version"),
    prodid: calendar.getFirstPropertyValue("prodid"),
    method: calendar.getFirstPropertyValue("method"),
    name: calendar.getFirstPropertyValue("x-wr-calname"),
    events,
  }),
);
