"""What browsers and proxies may keep of a response."""

from werkzeug.wrappers import Response


def no_store(response: Response) -> Response:
    """Mark a personal page (reached by token, or an organiser's) never to be kept anywhere."""
    response.headers["Cache-Control"] = "no-store"
    return response
