"""The Coupa sandbox's optional Standard Webhooks events (Coupa itself is polled), as finsync reads
them: a hint naming one document, never its content; the gateway reads the document through the
connector. The ids are checked here, before a path is built from one."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, StringConstraints, ValidationError

from canonical.procurement import ProcurementChangeKind
from connectors.payloads import one_line

# Coupa's record ids are integers; taken as digits, so one never leaves its path segment.
DocumentId = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v),
                       StringConstraints(pattern=r"^[0-9]{1,18}$")]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=100)]

# The event types that name a document finsync's process takes, and which kind of change it is.
DOCUMENT_KINDS = {"inventory_transaction.created": ProcurementChangeKind.RECEIPT,
                  "inventory_transaction.updated": ProcurementChangeKind.RECEIPT,
                  "invoice.updated": ProcurementChangeKind.INVOICE}


class EventDocument(BaseModel):
    id: DocumentId


class ProcurementEvent(BaseModel):
    """``{"type": "invoice.updated", "timestamp": "...", "data": {"id": 12, ...}}``."""

    type: EventType
    data: EventDocument


def parse_event(body: bytes) -> ProcurementEvent:
    """The event in ``body``; ValueError saying in one line what is wrong with it."""
    try:
        return ProcurementEvent.model_validate(json.loads(body))
    except ValidationError as error:
        raise ValueError(one_line(error.errors())) from None
    except ValueError:
        raise ValueError("the body is not JSON") from None
