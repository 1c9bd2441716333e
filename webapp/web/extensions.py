"""The web UI's Flask extensions, created here and initialised by :func:`webapp.web.init_web`."""

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_talisman import Talisman
from flask_wtf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
#: Only the routes that ask for a limit have one (sign-in).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
talisman = Talisman()
#: Bootstrap's CSS and JS, served from the package (there is no internet in production).
bootstrap = Bootstrap5()
