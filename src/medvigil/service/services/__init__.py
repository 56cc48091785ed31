"""Service's rules, one module per aggregate: requests (SVC-1), clocks (SVC-2), warranty
(SVC-5), dispatch and qualifications (SVC-3), work orders (SVC-4/9/11)."""

from .clocks import apply_policy, arrival_compliance, clocks_for, next_due
from .dispatching import (
    add_qualification,
    dispatch,
    qualification_problem,
    update_qualification,
    valid_qualification,
)
from .quotes import approve_discount, create_quote, record_customer_answer
from .requests import (
    answer_question,
    create_service_request,
    prefill_from_device,
    record_loaner,
    record_response,
    update_service_request,
    void_service_request,
)
from .warranty import Warranty, device_facts, find_device, warranty_status
from .workorders import (
    accept,
    archive_entry,
    arrive,
    close_work_order,
    confirm_signoff_code,
    return_part,
    save_fields,
    send_signoff_code,
    sign_off,
    start_travel,
    use_part,
)

__all__ = [
    "Warranty",
    "accept",
    "add_qualification",
    "approve_discount",
    "create_quote",
    "record_customer_answer",
    "answer_question",
    "apply_policy",
    "archive_entry",
    "arrival_compliance",
    "arrive",
    "clocks_for",
    "close_work_order",
    "create_service_request",
    "device_facts",
    "dispatch",
    "find_device",
    "next_due",
    "prefill_from_device",
    "qualification_problem",
    "record_loaner",
    "record_response",
    "confirm_signoff_code",
    "return_part",
    "save_fields",
    "send_signoff_code",
    "use_part",
    "sign_off",
    "start_travel",
    "update_qualification",
    "update_service_request",
    "valid_qualification",
    "void_service_request",
    "warranty_status",
]
