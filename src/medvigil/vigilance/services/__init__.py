"""Vigilance services, one module per aggregate (the pages, the API and the demo call these):

- events (VIG-1): create_event, update_event, prefill_from_evaluation, find_device,
  markets_from_trace, link_cluster, close_event, reopen_event, void_event
- decisions (VIG-2): propose_decisions, confirm_decision, decide_not_reportable,
  revise_decision
- reports (VIG-4): open_report, update_report, submit_report, open_follow_up, void_report
- board (VIG-7): board_rows, on_time_rates, deadline_source, my_work

Every function takes the acting user as `by=` (keyword), checks the permission with
core.permissions.require, works in one transaction with `select_for_update()`, writes under
`audit_context(actor=by, reason=...)`, and raises ValidationError for a broken rule and
ConflictError for a stale `version`.
"""
