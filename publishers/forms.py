"""The link builder (a GET form: the built link is a page anyone can bookmark; no state changes)
and the "Get link" button (POST, with CSRF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from offers.tracking_models import SUB_MAX_LENGTH


class GetLinkForm(FlaskForm):
    submit = SubmitField(_l("Get link"))


class BuilderForm(FlaskForm):
    class Meta:
        csrf = False  # read-only GET form

    sub1 = StringField("sub1", validators=[Optional(), Length(max=SUB_MAX_LENGTH)])
    sub2 = StringField("sub2", validators=[Optional(), Length(max=SUB_MAX_LENGTH)])
    sub3 = StringField("sub3", validators=[Optional(), Length(max=SUB_MAX_LENGTH)])
    sub4 = StringField("sub4", validators=[Optional(), Length(max=SUB_MAX_LENGTH)])
    sub5 = StringField("sub5", validators=[Optional(), Length(max=SUB_MAX_LENGTH)])
    deep_link = StringField(_l("Deep link"), validators=[Optional(), Length(max=1000)],
                            description=_l("A page on the offer's own site, e.g. /sale/shoes."))
    build = SubmitField(_l("Build link"))


class InviteFromBoardForm(FlaskForm):
    """An advertiser invites a publisher from the leaderboard to one of their private offers."""

    offer_id = SelectField(_l("Private offer"), coerce=int, validators=[DataRequired()])
    publisher_id = HiddenField(validators=[DataRequired()])
    invite = SubmitField(_l("Invite"))
