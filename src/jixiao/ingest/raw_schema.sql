-- The raw schema: the contract between ingest (src/jixiao/ingest) and dbt (dbt_project/).
-- Ingest appends; it never updates or deletes a loaded row. Every data row carries lineage:
-- the file's SHA-256, its original name, the sheet, the 1-based Excel row, and loaded_at.
-- Money is DECIMAL(18,2) in yuan (元), with the unit it was written in kept beside it.
-- Other measures (targets, actuals, weights, scores) are DECIMAL(20,6).
-- A submission is one (department, project, fiscal year) delivered by one file; a later file
-- for the same key supersedes the earlier one (dbt staging picks the latest loaded_at).

create schema if not exists raw;

-- One row per file seen, per load attempt outcome (载入日志).
create table if not exists raw.load_log (
    load_id            varchar not null,      -- uuid of this attempt
    file_hash          varchar not null,      -- sha256 hex of the bytes
    file_name          varchar not null,      -- original name in the inbox
    file_size_bytes    bigint not null,
    received_at        timestamp not null,    -- mtime of the inbox file (Excel's last save)
    loaded_at          timestamp not null,    -- when this attempt finished
    status             varchar not null,      -- loaded | skipped_unchanged | duplicate | quarantined
    layout             varchar,               -- selfeval_form | scoring_table | ledger | null
    rows_read          bigint not null,
    rows_loaded        bigint not null,
    rows_rejected      bigint not null,
    reason_code        varchar,               -- for quarantined files
    message_zh         varchar,
    message_en         varchar,
    quarantine_path    varchar,
    sheets_ignored     varchar,               -- json list of hidden/unknown sheets, with why
    layout_evidence    varchar                -- json: per sheet read, layout, score, reasons, runner-up
);

-- One row per rejected row or cell (被拒绝的行).
create table if not exists raw.rejected_rows (
    load_id            varchar not null,
    file_hash          varchar not null,
    file_name          varchar not null,
    sheet_name         varchar,
    row_number         integer,
    cell_ref           varchar,               -- e.g. 'D12'
    reason_code        varchar not null,
    expected           varchar,               -- what was expected, in words
    message_zh         varchar not null,
    message_en         varchar not null,
    raw_values         varchar,               -- json of the row's original cell texts
    loaded_at          timestamp not null
);

-- One row per (department, project, year) delivered by a file (报送).
create table if not exists raw.submissions (
    submission_id      varchar not null,      -- file_hash || ':' || sheet || ':' || project_key || ':' || year
    file_hash          varchar not null,
    file_name          varchar not null,
    sheet_name         varchar,
    loaded_at          timestamp not null,
    layout             varchar not null,
    department_name    varchar not null,
    project_key        varchar not null,      -- project code, else '<department>/<project name>'
    project_name       varchar,
    fiscal_year        integer not null
);

-- Project register (项目登记): from ledgers, and from the header of forms.
create table if not exists raw.projects (
    file_hash varchar not null, file_name varchar not null, sheet_name varchar not null,
    row_number integer not null, loaded_at timestamp not null, submission_id varchar,
    project_key        varchar not null,
    project_code       varchar,
    project_name       varchar not null,
    category           varchar,               -- 基础设施 | 营商环境 | 政务服务 | 民生保障 | 社会治理 | 政府协同和部门管理 | ...
    department_name    varchar not null,      -- 主管部门 / 预算部门
    implementing_unit  varchar,               -- 实施单位
    province           varchar,
    city               varchar,
    county             varchar,
    project_level      varchar,               -- 项目级次, e.g. 一级专项资金
    period_start_year  integer,
    period_end_year    integer,
    parent_project_key varchar
);

-- Budget lines (预算): initial, additions, cuts, allocations, transfers, by fund source.
create table if not exists raw.budget_lines (
    file_hash varchar not null, file_name varchar not null, sheet_name varchar not null,
    row_number integer not null, loaded_at timestamp not null, submission_id varchar,
    project_key        varchar not null,
    fiscal_year        integer not null,
    line_type          varchar not null,      -- initial | addition | cut | final | allocated | transfer_down | executed
    fund_source        varchar not null,      -- total | current_appropriation | carryover | other
    amount_yuan        decimal(18,2) not null,-- always positive; line_type says the sign
    original_text      varchar,               -- the cell as written
    original_unit      varchar not null,      -- 元 | 万元
    line_date          date,
    reason             varchar
);

-- Payments (支付).
create table if not exists raw.payments (
    file_hash varchar not null, file_name varchar not null, sheet_name varchar not null,
    row_number integer not null, loaded_at timestamp not null, submission_id varchar,
    project_key        varchar not null,
    fiscal_year        integer not null,
    payment_date       date,                  -- null when only a yearly total is known
    amount_yuan        decimal(18,2) not null,
    original_text      varchar,
    original_unit      varchar not null,
    fund_source        varchar,
    payee              varchar,
    voucher_no         varchar,
    summary            varchar,
    category           varchar                -- spending category where the ledger gives one
);

-- Performance indicators (绩效指标), one row per 三级指标.
create table if not exists raw.indicators (
    file_hash varchar not null, file_name varchar not null, sheet_name varchar not null,
    row_number integer not null, loaded_at timestamp not null, submission_id varchar,
    project_key        varchar not null,
    fiscal_year        integer not null,
    scheme_code        varchar,               -- evaluation scheme, e.g. mof_2020_selfeval
    level1_name        varchar not null,      -- 一级指标
    level1_weight      decimal(20,6),
    level2_name        varchar,               -- 二级指标
    level2_weight      decimal(20,6),
    level3_name        varchar not null,      -- 三级指标
    weight             decimal(20,6),         -- 分值 / 权重; null when blank (split equally later)
    weight_rule_text   varchar,               -- e.g. '各项指标权重=40/指标总数'
    target_text        varchar,
    target_kind        varchar,               -- quantitative | yes_no | qualitative
    target_direction   varchar,               -- >= | <= | =
    target_value       decimal(20,6),
    target_unit        varchar,
    actual_text        varchar,
    actual_kind        varchar,
    actual_value       decimal(20,6),
    actual_unit        varchar,
    reported_score     decimal(20,6),         -- 得分 / 自评分数
    deviation_reason   varchar,               -- 偏差原因分析及改进措施 / 未达标原因分析
    scoring_rule_text  varchar                -- 评分标准
);

-- The funding block of the self-evaluation form (项目资金（万元）), as reported.
create table if not exists raw.funding_reported (
    file_hash varchar not null, file_name varchar not null, sheet_name varchar not null,
    row_number integer not null, loaded_at timestamp not null, submission_id varchar,
    project_key        varchar not null,
    fiscal_year        integer not null,
    fund_source        varchar not null,      -- total | current_appropriation | carryover | other
    initial_budget_yuan decimal(18,2),
    final_budget_yuan  decimal(18,2),
    executed_yuan      decimal(18,2),
    original_unit      varchar not null,
    weight             decimal(20,6),         -- 分值 (10 on the standard form)
    reported_rate      decimal(20,6),         -- 执行率 as a fraction (0.9884)
    reported_score     decimal(20,6)          -- 得分
);

-- Evaluation results (评价结果): self, department or third-party, one row per first-level score.
create table if not exists raw.evaluations (
    file_hash varchar not null, file_name varchar not null, sheet_name varchar not null,
    row_number integer not null, loaded_at timestamp not null, submission_id varchar,
    project_key        varchar not null,
    fiscal_year        integer not null,      -- the last year of the evaluated period
    period_start_year  integer,
    evaluation_type    varchar not null,      -- self | department | third_party
    evaluator          varchar,
    scheme_code        varchar,
    level1_name        varchar,               -- null for the total row
    max_score          decimal(20,6),
    score              decimal(20,6),
    grade              varchar,               -- 优 | 良 | 中 | 差 as reported
    reported_rate      decimal(20,6)          -- a rate printed in the document (e.g. 支付率 0.9761)
);

-- Milestones (产出时效): planned vs actual counts per stage.
create table if not exists raw.milestones (
    file_hash varchar not null, file_name varchar not null, sheet_name varchar not null,
    row_number integer not null, loaded_at timestamp not null, submission_id varchar,
    project_key        varchar not null,
    fiscal_year        integer not null,
    stage              varchar not null,      -- 启动 | 可研 | 初步设计 | 立项 | 入场实施 | 初验 | 终验
    planned_count      integer not null,
    actual_count       integer not null
);

-- Yearly overall goal of a self-evaluation form (年度总体目标): free text as written.
-- Added after the first release (additive): one row per form sheet that has the block.
create table if not exists raw.project_goals (
    file_hash varchar not null, file_name varchar not null, sheet_name varchar not null,
    row_number integer not null, loaded_at timestamp not null, submission_id varchar,
    project_key        varchar not null,
    fiscal_year        integer not null,
    expected_goal      varchar,               -- 预期目标
    actual_outcome     varchar                -- 实际完成情况
);

-- Figures a file states about itself (报告数): a ledger's 合计 row, a summary line such as
-- "实际支付 50418.98 万元，支付率 97.61%". Not data rows: dbt compares them with its own sums
-- over the project and period (int_reported_totals_compared) and flags a difference.
create table if not exists raw.reported_totals (
    file_hash varchar not null, file_name varchar not null, sheet_name varchar not null,
    row_number integer not null, loaded_at timestamp not null, submission_id varchar,
    project_key        varchar not null,      -- the project the figure is about
    fiscal_year        integer not null,      -- the last year it covers
    period_start_year  integer,               -- the first year it covers
    source_table       varchar not null,      -- what it sums: payments | budget_lines | subprojects
    measure            varchar not null,      -- paid | final | allocated | approved | pay_rate
    amount_yuan        decimal(18,2),         -- for amounts
    rate               decimal(20,6),         -- for rates, as a fraction (0.9761)
    original_text      varchar,
    original_unit      varchar
);

-- Columns added after the first release (additive; existing warehouses gain them here).
alter table raw.load_log add column if not exists layout_evidence varchar;
-- when the file entered the inbox (inode change time) and what ordered it after the file
-- before it in its run: arrival | modified | copy | name (originals before copies)
alter table raw.load_log add column if not exists arrived_at timestamp;
alter table raw.load_log add column if not exists order_signal varchar;
-- 实际到位数 of the funding block (seed 003's form has the column; the MoF annex has not)
alter table raw.funding_reported add column if not exists allocated_yuan decimal(18,2);
