-- Grafana's window on care alerts: rule, kind and time only, never the person, the value or the
-- message. The care API keeps its tables in schema `care`, which Grafana's role cannot read.
-- Run once after the care API's first start (docs/operations.md, "Care operations dashboard"):
--   docker compose exec -T postgres psql -U hinode -d hinode < ops/compose/postgres/care-alert-counts.sql
CREATE OR REPLACE VIEW public.care_alert_counts AS
    SELECT rule, kind, raised_at FROM care.care_alerts;
GRANT SELECT ON public.care_alert_counts TO grafana_reader;
