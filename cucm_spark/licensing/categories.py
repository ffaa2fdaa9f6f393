"""Which licence category (Essential, Basic, Enhanced) each device model needs.

The map is data (``data/device_categories.json``): model name -> category, plus a
``"default"`` for every model not named (Enhanced: CTI-RDs, Spark-RDs, Jabber and
most phones). Model names match without regard to case or extra blanks.

A user's override file has the same shape and is laid *over* the bundled map, so it
names only the models it changes (``{"Cisco 8841": "basic"}``); to undo a bundled
entry, map the model to the category wanted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from cucm_spark.classify import normalise_model
from cucm_spark.data import load_json
from cucm_spark.errors import ConfigError

_BUNDLED = "device_categories.json"
_DEFAULT_KEY = "default"


class Category(str, Enum):
    """The licence a device needs when it is its owner's only device, or has no owner."""

    ESSENTIAL = "essential"
    BASIC = "basic"
    ENHANCED = "enhanced"


@dataclass(frozen=True)
class CategoryMap:
    """Model -> category, keyed by normalised model name, with a default."""

    models: Mapping[str, Category]
    default: Category = Category.ENHANCED
    # model as the cluster spells it -> category: a cluster has a few dozen models, 80,000 devices
    _memo: dict[str, Category] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_mapping(
        cls, mapping: object, source: str = "category map", base: CategoryMap | None = None
    ) -> CategoryMap:
        """Read ``{"default": ..., model: category, ...}``, laid over ``base`` if given."""
        if not isinstance(mapping, dict):
            raise ConfigError(f"{source}: expected an object of model name -> category")
        models = dict(base.models) if base is not None else {}
        default = base.default if base is not None else Category.ENHANCED
        for model, value in mapping.items():
            category = _category(value, model, source)
            if model == _DEFAULT_KEY:
                default = category
            else:
                models[normalise_model(model)] = category
        return cls(models, default)

    @classmethod
    def load(cls, path: Path | None = None) -> CategoryMap:
        """The bundled map, with a user's override file laid over it when a path is given."""
        bundled = cls.from_mapping(_load(None), f"bundled {_BUNDLED}")
        if path is None:
            return bundled
        return cls.from_mapping(_load(path), str(path), base=bundled)

    def category(self, model: str) -> Category:
        found = self._memo.get(model)
        if found is None:
            found = self._memo[model] = self.models.get(normalise_model(model), self.default)
        return found


def _category(value: object, model: str, source: str) -> Category:
    try:
        return Category(value)
    except ValueError as exc:
        raise ConfigError(
            f"{source}: {model!r} maps to {value!r}, not one of "
            + ", ".join(category.value for category in Category)
        ) from exc


def _load(path: Path | None) -> object:
    return load_json(_BUNDLED, path, "device categories")
