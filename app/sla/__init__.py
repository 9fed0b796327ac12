"""Response-time rules: the pure SLA clock (`clock`) and the policy built from `[sla]` (`policy`)."""
from app.sla.clock import (
                           DAY_KEYS,
                           ClockAt,
                           OpeningHours,
                           SlaPolicy,
                           SlaState,
                           SlaStatus,
                           clock_running,
                           due_at,
                           evaluate,
                           first_response_seconds,
                           seconds_left,
                           sla_seconds_between,
                           sla_state,
                           warning_at,
)
from app.sla.policy import policy_from_config

__all__ = ["DAY_KEYS", "ClockAt", "OpeningHours", "SlaPolicy", "SlaState", "SlaStatus", "clock_running", "due_at",
           "evaluate", "first_response_seconds", "policy_from_config", "seconds_left", "sla_seconds_between",
           "sla_state", "warning_at"]
