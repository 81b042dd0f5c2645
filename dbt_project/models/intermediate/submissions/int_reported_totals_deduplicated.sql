-- Only figures of files whose submissions are still current (只保留最新报送的报告数).
{{ latest_submission_rows('stg_raw__reported_totals') }}
