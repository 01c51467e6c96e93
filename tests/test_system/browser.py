"""A small HTTP client that behaves as a browser does for our pages: cookies, forms, buttons.

Each request opens a connection of its own (so requests spread over the server's workers),
nothing follows redirects by itself, and every response's status is recorded for the test.
"""

import http.client
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit


@dataclass
class Page:
    """One response: status, headers and body, and the address it answered."""

    path: str
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def form(self, *, action: str | None = None, button: str | None = None) -> "Form":
        """The page's form posting to `action` (a path) or carrying this button value."""
        forms = FormParser.parse(self.body, self.path)
        for form in forms:
            if action is not None and urlsplit(form.action).path != action:
                continue
            if button is not None and button not in [value for _, value in form.buttons]:
                continue
            return form
        raise AssertionError(f"no form (action={action}, button={button}) on {self.path}")


@dataclass
class Form:
    """A form as a browser would send it: its action, method and successful controls."""

    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def data(self, button: str | None = None, **values: str) -> list[tuple[str, str]]:
        """The fields with `values` set (a value of "on" ticks a checkbox), and the button."""
        pairs = [(name, value) for name, value in self.fields if name not in values]
        pairs += [(name, value) for name, value in values.items()]
        if button is not None:
            pairs += [(n, v) for n, v in self.buttons if v == button][:1]
        return pairs


class FormParser(HTMLParser):
    """Reads every form of a page: hidden and filled-in fields, checked boxes, buttons."""

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: str | None = None

    @classmethod
    def parse(cls, html: str, base: str) -> list[Form]:
        parser = cls(base)
        parser.feed(html)
        parser.close()
        return parser.forms

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urljoin(self.base, a.get("action") or self.base)
            self._form = Form(action=action, method=(a.get("method") or "get").lower())
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                form.buttons.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.fields.append((name, a.get("value", "on")))
            elif kind not in ("button", "reset", "file"):
                form.fields.append((name, a.get("value", "")))
        elif tag == "button" and name and a.get("type", "submit").lower() == "submit":
            form.buttons.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            form.fields.append((self._select, a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, parts = self._textarea
            # A browser drops the one newline that may follow <textarea>.
            self._form.fields.append((name, "".join(parts).removeprefix("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None


@dataclass
class StatusLog:
    """Every status the server answered, shared by all the browsers of a test."""

    seen: list[tuple[str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.seen.append((method, path, status))

    def server_errors(self) -> list[tuple[str, str, int]]:
        with self.lock:
            return [entry for entry in self.seen if entry[2] >= 500]


class Browser:
    """One person's browser: its own cookies, one connection per request."""

    def __init__(self, base_url: str, log: StatusLog, *, timeout: float = 60) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.log = log
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> Page:
        return self._request("GET", path)

    def post(self, path: str, data: list[tuple[str, str]]) -> Page:
        return self._request("POST", path, urlencode(data))

    def submit(self, form: Form, button: str | None = None, **values: str) -> Page:
        """Send a form as a browser would after the person filled it in and pressed `button`."""
        path = _path(form.action)
        if form.method == "post":
            return self.post(path, form.data(button, **values))
        query = urlencode(form.data(button, **values))
        return self.get(f"{urlsplit(path).path}?{query}")

    def _request(self, method: str, path: str, body: str | None = None) -> Page:
        path = _path(path)
        headers = {"Accept": "text/html", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in cookie.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        self.log.add(method, path, response.status)
        return Page(path, response.status, response.headers, text)


def _path(url: str) -> str:
    """The path and query of a link, absolute or not."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
