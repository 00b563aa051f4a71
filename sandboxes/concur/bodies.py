"""Request bodies Concur accepts, validated into 400s in its v4 error shape."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError

from sandboxes.concur.errors import ConcurApiError

CURRENCY = r"^[A-Z]{3}$"
M = TypeVar("M", bound=BaseModel)


class CustomField(BaseModel):
    id: str
    value: str | None = None


class NewReport(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    reportDate: date | None = None  # noqa: N815 - Concur's field names
    currencyCode: str = Field(pattern=CURRENCY)  # noqa: N815
    businessPurpose: str = ""  # noqa: N815
    policyId: str | None = None  # noqa: N815
    customData: list[CustomField] = []  # noqa: N815


class Amount(BaseModel):
    value: Decimal
    currencyCode: str = Field(pattern=CURRENCY)  # noqa: N815


class ExpenseTypeRef(BaseModel):
    id: str


class ExchangeRate(BaseModel):
    value: Decimal = Field(gt=0)
    operation: Literal["MULTIPLY"] = "MULTIPLY"


class Vendor(BaseModel):
    name: str = ""


class TaxDetail(BaseModel):
    taxCode: str  # noqa: N815
    reclaimableAmount: Amount | None = None  # noqa: N815


class NewExpense(BaseModel):
    expenseType: ExpenseTypeRef  # noqa: N815
    transactionDate: date  # noqa: N815
    transactionAmount: Amount  # noqa: N815
    exchangeRate: ExchangeRate | None = None  # noqa: N815
    vendor: Vendor = Vendor()
    businessPurpose: str = ""  # noqa: N815
    receiptImageId: str | None = None  # noqa: N815 - image upload is not modelled: any id is accepted
    customData: list[CustomField] = []  # noqa: N815
    taxDetails: list[TaxDetail] = Field(default=[], max_length=1)  # noqa: N815


class WorkflowAction(BaseModel):
    comment: str | None = None
    statusId: str | None = None  # noqa: N815
    currentSequence: int | None = None  # noqa: N815
    currentProcessInstanceId: str | None = None  # noqa: N815
    reportSource: str | None = None  # noqa: N815


class WebHookConfig(BaseModel):
    endpoint: str = Field(pattern=r"^https?://")


class Subscription(BaseModel):
    id: str = Field(min_length=1)
    filter: str = ".*"           # a regular expression on the event's subtopic (the company id)
    topic: Literal["public.concur.expense.report"]
    webHookConfig: WebHookConfig  # noqa: N815


def parse(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConcurApiError(400, "The request is not valid.", [
            {"id": err["type"], "message": err["msg"], "source": ".".join(str(p) for p in err["loc"])}
            for err in exc.errors()]) from None
