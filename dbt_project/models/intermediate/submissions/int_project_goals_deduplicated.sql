-- Only rows of the latest submission per (department, project, fiscal year) (只保留最新报送).
{{ latest_submission_rows('stg_raw__project_goals') }}
