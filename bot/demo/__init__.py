"""The demo: every path of the procedure played on a simulated clock in a temporary workspace."""

from bot.demo.play import run_demo

__all__ = ["run_demo"]
