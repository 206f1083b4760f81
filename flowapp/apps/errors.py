"""The error of scaffolding: a project or function that cannot be created.

Loading and validating raise ``flowapp.dsl.problems.DefinitionError`` (problems with
locations); scaffolding refuses for reasons that have no location in a document (a
folder that is not empty, a name already taken), so it has its own, plain error.
"""

from __future__ import annotations


class ScaffoldError(Exception):
    """Nothing was created or changed; the message says why and what to do instead."""
