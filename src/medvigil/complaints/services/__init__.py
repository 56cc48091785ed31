"""The complaint flow's services, one module per stage (one rule in one function; the pages,
the API, the public form, the mailbox and the importers all call these):

Modules (stage: functions):

- intake (FBK-1/2): register_feedback, update_feedback, find_device, answer_and_close,
  void_feedback
- routing (FBK-3/8): propose_severity, set_severity, route_feedback, send_problem_notices,
  acknowledge_notice, answer_notice
- clocks (FBK-4): clocks_for, pause_clock, resume_clock, alert_on_call
- evaluation (FBK-5): start_evaluation, record_evaluation, approve_evaluation, complete_handoff
- investigation (FBK-6): start_investigation, update_investigation, complete_investigation,
  related_feedback, unit_history_links
- resolution (FBK-7): propose_resolution, decide_approval, agree_resolution, send_reply,
  record_confirmation, schedule_callback, record_callback, close_feedback, reopen_feedback
- eight_d (FBK-8): draft_eight_d, update_eight_d, issue_eight_d
- complaint_file (FBK-9): complaint_file, complaint_file_pdf
- public (FBK-1): submit_public_feedback, public_status
- mailbox (FBK-1): fetch_mailbox, message_to_feedback
- analysis (FBK-10): period_analysis, year_end_summary, early_warnings

Every function takes the acting user as `by=` (keyword), checks the permission with
core.permissions.require, works in one transaction with `select_for_update()`, writes under
`audit_context(actor=by, reason=...)`, and raises ValidationError for a broken rule and
ConflictError for a stale `version`.
"""
