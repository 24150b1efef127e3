"""Models: lead scoring, churn, CLV, forecasts, anomalies, staffing. Pure estimators, no web or database code."""
