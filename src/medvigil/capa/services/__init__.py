"""The CAPA app's services, one module per aggregate (the pages, the API and the demo call
these; each takes the acting user as `by=`, checks the permission, locks the row, writes under
audit_context and raises ValidationError for a broken rule, ConflictError for a stale version):

- capa (CAPA-1): create_capa, update_capa, void_capa, add_action, update_action,
  complete_action, cancel_action, verify_effectiveness, close_capa, complaint_prefill,
  open_capa_from_complaint, record_no_capa_decision, pending_complaint_handoffs
- nonconformity (CAPA-2): create_nonconformity, update_nonconformity, record_segregation,
  decide_disposition, approve_concession, reject_concession, close_nonconformity,
  link_related, void_nonconformity
- suppliers (CAPA-3): create_supplier, update_supplier, request_scar, scar_from_nonconformity,
  record_response, verify_scar, void_scar
- reports (CAPA-1): draft_capa_report, issue_capa_report, capa_report_pdf, report_content
  (the CAPA report, issued through core.records.issued)
- work: my_work, deadline_source
"""
