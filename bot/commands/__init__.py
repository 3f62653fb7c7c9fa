"""The officers' and SPO's command language: parse commands from mail, check who may give them."""

from bot.commands.dates import DateError, parse_date
from bot.commands.grammar import COMMAND_NAMES
from bot.commands.model import Command, ParsedCommands
from bot.commands.parser import COPY_END, COPY_START, parse_commands
from bot.commands.policy import CommandPolicy, CommandRule, load_command_policy

__all__ = [
    "COMMAND_NAMES",
    "COPY_END",
    "COPY_START",
    "Command",
    "CommandPolicy",
    "CommandRule",
    "DateError",
    "ParsedCommands",
    "load_command_policy",
    "parse_commands",
    "parse_date",
]
