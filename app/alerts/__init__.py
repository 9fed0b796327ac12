"""Chat alerts: value objects (`model`), per-tool rendering and delivery (`sinks`), escaping
of customer text (`neutralise`), pure delivery decisions (`policy`), spike detection
(`spike`, `terms`, `topic`). The outbox, planner, dispatcher, spikes and statements build on
these with the database; nothing in the package knows the web framework."""
from app.alerts.alert import ALERT_KINDS, Alert, AlertGroup, AlertKind, MentionInfo, dashboard_link, dedupe_key

__all__ = ["ALERT_KINDS", "Alert", "AlertGroup", "AlertKind", "MentionInfo", "dashboard_link", "dedupe_key"]
