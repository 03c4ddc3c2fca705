"""The ``Workspace`` facade: one class joining every operation's mixin.

Imported on first use of ``agentctl.workspace.Workspace`` (see the package's ``__init__``).
"""

from __future__ import annotations

from agentctl.workspace.attention import AttentionOps
from agentctl.workspace.autonomy import AutonomyOps
from agentctl.workspace.dispatching import DispatchOps
from agentctl.workspace.docs import DocOps
from agentctl.workspace.fetching import FetchOps
from agentctl.workspace.freshness import FreshnessOps
from agentctl.workspace.gates import GateOps
from agentctl.workspace.githooks import GitHookOps
from agentctl.workspace.graphs import GraphOps
from agentctl.workspace.integrations import IntegrationOps
from agentctl.workspace.interchange_jsonl import JsonlOps
from agentctl.workspace.memory import MemoryOps
from agentctl.workspace.planning import PlanningOps
from agentctl.workspace.reports import ReportOps
from agentctl.workspace.runs import RunOps
from agentctl.workspace.settings import SettingsOps
from agentctl.workspace.spec_tasks import SpecTaskOps
from agentctl.workspace.sync import SyncOps


class Workspace(
    AutonomyOps,
    GitHookOps,
    GateOps,
    FetchOps,
    DocOps,
    SpecTaskOps,
    JsonlOps,
    PlanningOps,
    GraphOps,
    DispatchOps,
    AttentionOps,
    MemoryOps,
    ReportOps,
    RunOps,
    SyncOps,
    SettingsOps,
    IntegrationOps,
    FreshnessOps,
):
    """A workspace rooted at a directory holding ``.agentctl/config.yaml``."""
