"""The query parameters of the report pages, loaded through marshmallow schemas: an
unknown or bad parameter is a 400 naming it."""

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from engine.domain import OrgKind
from webapp.alerting.filters import code_field
from webapp.reports.orgtree import LEVELS, OrgTree
from webapp.reports.population import DIMENSIONS, MEASURES
from webapp.scope import Scope
from webapp.web.exports import FORMATS


def _choice(choices: list[str], default: str | None) -> fields.String:
    return fields.String(load_default=default, validate=validate.OneOf(
        choices, error="must be one of: {choices}"))


class ReportSchema(Schema):
    """What every report takes: ``format`` (an export instead of the page)."""

    class Meta:
        unknown = RAISE

    format = _choice(list(FORMATS), None)


class UnitSchema(ReportSchema):
    """A report limited to the communities under an org unit."""

    unit = code_field()


class LevelSchema(UnitSchema):
    """A report grouped by org unit at a level."""

    level = _choice([level.value for level in LEVELS], OrgKind.CITY.value)


class PopulationSchema(LevelSchema):
    by = _choice(list(DIMENSIONS), DIMENSIONS[0])
    measure = _choice(list(MEASURES), MEASURES[0])


class StockSchema(LevelSchema):
    table = _choice(["months", "units"], "months")


def load(schema: Schema, raw: Mapping[str, str], tree: OrgTree, scope: Scope
         ) -> dict[str, Any]:
    """The parameters (blank ones taken as not given), the unit checked against the org
    tree and the person's scope; ``ValidationError`` naming each bad field."""
    given = {key: value.strip() for key, value in raw.items() if value.strip()}
    data: dict[str, Any] = schema.load(given)
    unit = data.get("unit")
    if unit is not None:
        if unit not in tree.units:
            raise ValidationError({"unit": ["no such org unit"]})
        if tree.units[unit].kind == OrgKind.PROVINCE:
            data["unit"] = None
        elif scope.communities is not None \
                and not tree.communities_under(unit) & scope.communities:
            raise ValidationError({"unit": ["outside your org scope"]})
    if "level" in data:
        data["level"] = OrgKind(data["level"])
    return data
