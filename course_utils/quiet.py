"""The one library warning the course hides, installed when ``course_utils`` is imported.

Every notebook imports ``course_utils``, so this is the single place where a
warning is filtered. Only standard-library modules are imported here: the
package import must stay cheap (no torch, no transformers).
"""
from __future__ import annotations

import re
import warnings

# peft (0.21) reads `model.is_gradient_checkpointing` whenever it wraps a model in a PeftModel
# (every LoRA training run and every adapter load), and transformers 5 deprecated that property.
# Neither our code nor the learner's can avoid the call, and the message prints the path of the
# virtual environment under the cell. Matched by its text, its category and the module that
# issues it, so any other FutureWarning still shows.
GRADIENT_CHECKPOINTING_NOTICE = "`is_gradient_checkpointing` is deprecated"


def hide_library_warnings() -> None:
    """Install the filter (adding it again is harmless: ``filterwarnings`` replaces an equal entry)."""
    warnings.filterwarnings("ignore", message=re.escape(GRADIENT_CHECKPOINTING_NOTICE), category=FutureWarning,
                            module=r"transformers\.modeling_utils\Z")


hide_library_warnings()
