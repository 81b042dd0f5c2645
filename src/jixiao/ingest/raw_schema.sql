-- The raw schema: the contract between ingest (src/jixiao/ingest) and dbt (dbt_project/).
-- Ingest appends; it never updates or deletes a loaded row. Every data row carries lineage:
-- the file's SHA-256, its original name, the sheet, the 1-based Excel row, and loaded_at.
-- Money is DECIMAL(18,2) in yuan (元), with the unit it was written in kept beside it.
-- Other measures (targets, actuals, weights, scores) are DECIMAL(20,6).
-- A submission is one (department, project, fiscal year) delivered by one file; a newer file
-- for the same key supersedes the earlier one, newer by the document's own time (填报日期,
-- docProps modified, file time, then arrival): the views at the end of this file are the one
-- definition of "the current submission" that dbt and the raw gate both read.

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
-- The document's own date signals (src/jixiao/ingest/versions.py): the 填报日期 / 填表日期
-- written in the workbook, and its docProps modified time (else created), naive UTC.
alter table raw.load_log add column if not exists document_filled_on date;
alter table raw.load_log add column if not exists document_modified_at timestamp;
-- Where a quarantined file went wrong, what was expected there, and the department read from
-- it before the rejection (null when it was rejected before any department was read): the
-- submitter's feedback (jixiao.reports.feedback) names sheet, cell and expectation from these.
alter table raw.load_log add column if not exists sheet_name varchar;
alter table raw.load_log add column if not exists cell_ref varchar;
alter table raw.load_log add column if not exists expected varchar;
alter table raw.load_log add column if not exists department_name varchar;

-- 报送版本 (submission versions): THE definition of version order and "the current submission",
-- read by dbt (source raw._submission_versions -> int_submissions_ranked) and by the raw gate
-- (jixiao.quality.frames), which runs before dbt build. One row per (department, project,
-- fiscal year, file). Versions are ordered by the document's own time, newest first:
--   1. filled_on (填报日期 written in the workbook),
--   2. document_modified_at (docProps dcterms:modified, else created),
--   3. received_at (the file's mtime),
--   4. arrived_at (inode change time when the file entered the inbox, else loaded_at),
--   5. loaded_at, then file_hash (a stable last resort).
-- A signal orders a key's versions only when every version of that key has it: a file without
-- a 填报日期 is neither older nor newer than one with a date, so both are compared by the next
-- signal they all carry (ordered_by names the first signal used). arrival_rank is the order of
-- arrival; a version that arrived after the current one while older by the document's time
-- (arrived_after_current) is kept in history and flagged (older_version_arrived_later).
create or replace view raw._submission_versions as
with
file_signals as (
    select
        file_hash,
        max(document_filled_on) as filled_on,
        max(document_modified_at) as document_modified_at,
        max(received_at) as received_at,
        max(arrived_at) as arrived_at
    from raw.load_log
    where status = 'loaded'
    group by file_hash
),
files as (
    -- keys trimmed as dbt's stg_raw__submissions trims them
    select
        trim(department_name) as department_name,
        trim(project_key) as project_key,
        fiscal_year,
        file_hash,
        min(file_name) as file_name,
        max(loaded_at) as loaded_at
    from raw.submissions
    group by trim(department_name), trim(project_key), fiscal_year, file_hash
),
signalled as (
    select
        files.department_name,
        files.project_key,
        files.fiscal_year,
        files.file_hash,
        files.file_name,
        files.loaded_at,
        file_signals.filled_on,
        file_signals.document_modified_at,
        file_signals.received_at,
        coalesce(file_signals.arrived_at, files.loaded_at) as arrived_at,
        count(*) over (
            partition by files.department_name, files.project_key, files.fiscal_year
        ) as version_count,
        count(file_signals.filled_on) over (
            partition by files.department_name, files.project_key, files.fiscal_year
        ) as filled_count,
        count(file_signals.document_modified_at) over (
            partition by files.department_name, files.project_key, files.fiscal_year
        ) as modified_count,
        count(file_signals.received_at) over (
            partition by files.department_name, files.project_key, files.fiscal_year
        ) as received_count
    from files
    left join file_signals on files.file_hash = file_signals.file_hash
),
ranked as (
    select
        signalled.*,
        case
            when version_count = 1 then 'only_version'
            when filled_count = version_count then 'filled_on'
            when modified_count = version_count then 'document_modified_at'
            when received_count = version_count then 'received_at'
            else 'arrived_at'
        end as ordered_by,
        row_number() over (
            partition by department_name, project_key, fiscal_year
            order by
                case when filled_count = version_count then filled_on end desc nulls last,
                case when modified_count = version_count then document_modified_at end
                    desc nulls last,
                case when received_count = version_count then received_at end desc nulls last,
                arrived_at desc,
                loaded_at desc,
                file_hash desc
        ) as version_rank,
        -- the same order without the file_hash tie-break: versions tied with the current one on
        -- every signal (only synthetic data can tie on loaded_at) share its tier, and the raw
        -- gate reports such a key as ambiguous
        dense_rank() over (
            partition by department_name, project_key, fiscal_year
            order by
                case when filled_count = version_count then filled_on end desc nulls last,
                case when modified_count = version_count then document_modified_at end
                    desc nulls last,
                case when received_count = version_count then received_at end desc nulls last,
                arrived_at desc,
                loaded_at desc
        ) as version_tier,
        row_number() over (
            partition by department_name, project_key, fiscal_year
            order by arrived_at desc, loaded_at desc, file_hash desc
        ) as arrival_rank
    from signalled
),
current_arrival as (
    select department_name, project_key, fiscal_year, arrived_at, loaded_at, file_hash
    from ranked
    where version_rank = 1
)
select
    ranked.department_name,
    ranked.project_key,
    ranked.fiscal_year,
    ranked.file_hash,
    ranked.file_name,
    ranked.loaded_at,
    ranked.filled_on,
    ranked.document_modified_at,
    ranked.received_at,
    ranked.arrived_at,
    ranked.ordered_by,
    ranked.version_rank,
    ranked.version_count,
    ranked.arrival_rank,
    ranked.version_rank = 1 as is_current,
    ranked.version_tier = 1 as in_current_tier,
    ranked.version_rank > 1 and (
        ranked.arrived_at > current_arrival.arrived_at
        or (ranked.arrived_at = current_arrival.arrived_at
            and ranked.loaded_at > current_arrival.loaded_at)
    ) as arrived_after_current
from ranked
inner join current_arrival
    on ranked.department_name = current_arrival.department_name
    and ranked.project_key = current_arrival.project_key
    and ranked.fiscal_year = current_arrival.fiscal_year;

-- 当前报送的数据行 (current rows per table): a submission's rows of one raw table count when
-- its file is the newest version (raw._submission_versions) AMONG THE FILES THAT DELIVERED
-- ROWS OF THAT TABLE for the key. A ledger sent as one workbook per kind (项目登记.xlsx,
-- 支付.xlsx, 评价结果.xlsx) so keeps every kind; a resubmitted workbook replaces the rows of
-- every table it holds. Rows without a submission_id are not listed here (dbt's
-- latest_submission_rows and the raw gate say what happens to them).
create or replace view raw._submission_tables as
with
carried as (
    select distinct 'budget_lines' as table_name, submission_id from raw.budget_lines
    union all select distinct 'payments', submission_id from raw.payments
    union all select distinct 'indicators', submission_id from raw.indicators
    union all select distinct 'funding_reported', submission_id from raw.funding_reported
    union all select distinct 'evaluations', submission_id from raw.evaluations
    union all select distinct 'milestones', submission_id from raw.milestones
    union all select distinct 'project_goals', submission_id from raw.project_goals
    union all select distinct 'reported_totals', submission_id from raw.reported_totals
    union all select distinct 'projects', submission_id from raw.projects
),
ranked as (
    select
        carried.table_name,
        submissions.submission_id,
        submissions.file_hash,
        versions.department_name,
        versions.project_key,
        submissions.fiscal_year,
        versions.version_rank,
        min(versions.version_rank) over (
            partition by carried.table_name, versions.department_name,
                versions.project_key, submissions.fiscal_year
        ) as table_version_rank
    from carried
    inner join raw.submissions as submissions on carried.submission_id = submissions.submission_id
    inner join raw._submission_versions as versions
        on trim(submissions.department_name) = versions.department_name
        and trim(submissions.project_key) = versions.project_key
        and submissions.fiscal_year = versions.fiscal_year
        and submissions.file_hash = versions.file_hash
)
select
    table_name,
    submission_id,
    file_hash,
    department_name,
    project_key,
    fiscal_year,
    version_rank,
    table_version_rank,
    version_rank = table_version_rank as is_current
from ranked;
