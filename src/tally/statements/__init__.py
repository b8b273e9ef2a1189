"""Customer account statements (emails.md EM12): `build_statement` and the objects it returns.

The documents package renders a `Statement` to HTML/PDF and the emails package sends it; both
import these names from here. The rules live in tally.domain.statements.
"""

from tally.domain.statements import Statement, StatementLine, StatementOptions, check_options
from tally.statements.service import build_statement

__all__ = [
    "Statement",
    "StatementLine",
    "StatementOptions",
    "build_statement",
    "check_options",
]
