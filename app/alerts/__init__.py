"""Chat alerts: value objects (`model`), per-tool rendering and delivery (`sinks`), escaping
of customer text (`neutralise`), pure delivery decisions (`policy`) and spike detection
(`spike`). No database and no web framework here: the outbox worker builds on these."""
from app.alerts.model import ALERT_KINDS, Alert, AlertGroup, AlertKind, MentionInfo, dashboard_link, dedupe_key

__all__ = ["ALERT_KINDS", "Alert", "AlertGroup", "AlertKind", "MentionInfo", "dashboard_link", "dedupe_key"]
