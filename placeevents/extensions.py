"""Flask extensions, created unbound and initialised in create_app."""

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from placeevents.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
login_manager = LoginManager()


def _client_address() -> str:
    return get_remote_address() or "unknown"


class _Limiter(Limiter):
    """Flask-Limiter, but a request every request filter exempts (most reads, see
    placeevents.limits) is let through before the limiter resolves limits it would skip."""

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        if self.enabled and any(exempt() for exempt in self._request_filters):
            return
        super()._check_request_limit(callable_name, in_middleware)


limiter = _Limiter(key_func=_client_address, default_limits=[])


@limiter.request_filter
def _exempt_addresses() -> bool:
    from flask import current_app

    return request.remote_addr in current_app.config.get("RATELIMIT_EXEMPT_ADDRESSES", [])
