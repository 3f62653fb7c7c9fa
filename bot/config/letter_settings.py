"""Config for what goes to providers: approval, the referrer's identity, letterhead and assets."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from bot.config.fields import ConfigPath
from bot.config.mailbox_settings import STRICT


class LetterSettings(BaseModel):
    """Letters to providers: who approves them, what they may carry, and the letterhead."""

    model_config = STRICT
    approval: Literal["required", "off"] = Field(
        default="required",
        description="required: the case officer approves the first letter to a provider, "
        "and the copy of the concern it carries, before it goes; off: it goes at once",
    )

    @field_validator("approval", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted `off` as false (and `on` as true).
        if isinstance(value, bool):
            return "required" if value else "off"
        return value

    referrer_identity: Literal["withheld", "shared"] = Field(
        default="withheld",
        description="Whether letters tell the provider who raised the concern "
        "(each case may say otherwise)",
    )
    concern_attachments: Literal["drop", "keep"] = Field(
        default="drop",
        description="Whether the referral's attachments go to the provider with the copy "
        "of the concern (each case may say otherwise)",
    )
    assets: ConfigPath | None = Field(
        default=None,
        description="Folder holding the logo, signature image and letter.css; "
        "none: the plain built-in letterhead",
    )
    logo: str = Field(default="", description="Logo file in the assets folder ('' for none)")
    signature_image: str = Field(
        default="", description="Picture of a signature in the assets folder ('' for none)"
    )
    address: list[str] = Field(
        default=[], description="The council's postal address lines, on the letterhead"
    )
    contact: list[str] = Field(
        default=[], description="Telephone, email or web lines under the address"
    )
    signature: list[str] = Field(
        default=[],
        description="Lines under 'Yours sincerely'; none: the team's and the council's name",
    )
