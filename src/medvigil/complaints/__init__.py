"""Customer feedback and complaints (FBK-1 … FBK-10): intake from every channel, severity and
routing, clocks, customer problem notices, quality evaluation, investigation, resolution and
reply, the 8D report and the complaint file. A domain app on the platform kit
(docs/development/domain-app.md); the user guide is docs/complaints.md."""
