"""Flask extensions, created unbound here and bound to the app in create_app."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from cpa_network.replica import RoutingSession

# Stable constraint names, so migrations can name (and drop) what they created.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# The database (SQLAlchemy 2 declarative models); statistics views may read a replica.
db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()  # Alembic migrations under migrations/
login_manager = LoginManager()  # session login for the site
csrf = CSRFProtect()  # a CSRF token on every state-changing form
babel = Babel()  # English and Russian
# Rate limits live in Redis, shared by every server worker and node.
limiter = Limiter(key_func=get_remote_address)
