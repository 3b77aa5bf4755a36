"""The demo data set: what ``flask --app wsgi demo`` loads into an empty database.

This module only describes the data; :mod:`~webapp.cli.demo.loader` loads it.  It holds:

- the demo users (``admin@example.com``, a site admin, and a viewer, an editor and a
  manager of the scope);
- scope ``scope_acme`` ("Acme Corp", slug ``acme``) with the tag groups ``priority``
  (``tag_group_priority``, exclusive; its tags are ``urgent``, ``normal`` and ``backlog``,
  so that replaying seed 002's batch example creates ``high``/``medium``/``low``), ``environment``
  (exclusive), ``team``, ``sensitivity`` (exclusive, data sources / tables / columns only) and
  ``topic`` (nodes and files);
- the curated ``Address.*`` hierarchy, the system-created and protected ``Discovered.*``
  hierarchy, the system-created (not protected, so seed 003's delete example works)
  ``DataProperties.*`` hierarchy, and the plain tags the seeds use
  (``marketing``, ``production``, ``weekly-refresh``, ``owned-by-revops``, ``ads``,
  ``legacy``, ``Confidential`` …);
- the saved auto-tagging rule "Ads sources" (seed 000's example: every source whose slug
  ends with ``-ads`` gets ``ads``), enabled and not yet applied;
- several hundred resources of all 13 types with stable ids (UUIDv5 for the seed 000/001
  types, integers for data sources and projects, ``<datasource>_<column>`` for columns,
  ``node_<n>`` / ``file_<n>`` for seed 004) and a few thousand assignments, planned as a few
  dozen set-based ``attach`` calls.

The data is deterministic (``random.Random(42)``).
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from webapp.models import AssignmentContext, Role
from webapp.services.scopes import slugify

SCOPE_ID = "scope_acme"
SCOPE_NAME = "Acme Corp"
SCOPE_SLUG = "acme"
ADMIN_EMAIL = "admin@example.com"
SEED = 42
# Fixed namespace of the UUIDv5 ids of the seed 000/001 resource types.
RESOURCE_NAMESPACE = uuid.UUID("6f3c2a1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b")

# (email, display name, role in scope_acme; None = site admin without a membership)
DEMO_USERS: tuple[tuple[str, str, Role | None], ...] = (
    (ADMIN_EMAIL, "Demo Admin", None),
    ("viewer@example.com", "Vera Viewer", Role.VIEWER),
    ("editor@example.com", "Eddie Editor", Role.EDITOR),
    ("manager@example.com", "Mona Manager", Role.MANAGER),
)


# --- the data ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Group:
    identifier: str
    public_id: str
    label: str
    color: str
    exclusive: bool
    description: str
    allowed_types: tuple[str, ...] = ()


GROUPS: tuple[_Group, ...] = (
    _Group("priority", "tag_group_priority", "Priority", "#EF4444", True,
           "How urgently a resource needs attention. One per resource."),
    _Group("environment", "tag_group_environment", "Environment", "#3B82F6", True,
           "The deployment environment a resource belongs to."),
    _Group("team", "tag_group_team", "Owning team", "#8B5CF6", False,
           "Teams responsible for a resource; a resource may have several."),
    _Group("sensitivity", "tag_group_sensitivity", "Sensitivity", "#F59E0B", True,
           "Data classification of data sources, tables and columns.",
           ("datasource", "table", "column")),
    _Group("topic", "tag_group_topic", "Topic", "#14B8A6", False,
           "What a note or file is about.", ("node", "file")),
)

# group -> [(name, label, colour, public id)]
GROUP_TAGS: dict[str, list[tuple[str, str, str, str | None]]] = {
    "priority": [
        ("urgent", "Urgent", "#DC2626", None),
        ("normal", "Normal", "#F59E0B", None),
        ("backlog", "Backlog", "#10B981", None),
    ],
    "environment": [
        ("production", "Production", "#2563EB", None),
        ("staging", "Staging", "#60A5FA", None),
        ("development", "Development", "#93C5FD", None),
    ],
    "team": [
        ("revops", "RevOps", "#7C3AED", None),
        ("data-platform", "Data Platform", "#6D28D9", None),
        ("growth", "Growth", "#A855F7", None),
        ("finance", "Finance", "#C084FC", None),
    ],
    "sensitivity": [
        ("public", "Public", "#22C55E", None),
        ("internal", "Internal", "#EAB308", None),
        ("confidential", "Confidential", "#F97316", None),
        ("restricted", "Restricted", "#DC2626", None),
    ],
    "topic": [
        ("meetings", "Meetings", "#0D9488", None),
        ("research", "Research", "#0F766E", None),
        ("travel", "Travel", "#2DD4BF", None),
        ("planning", "Planning", "#5EEAD4", None),
        ("hiring", "Hiring", "#115E59", None),
    ],
}

ADDRESS_TAGS = ("email", "work", "home", "street", "city", "state", "zip", "country")

COUNTRIES = (
    "Argentina", "Australia", "Brazil", "Canada", "France", "Germany", "India", "Japan",
    "Mexico", "Netherlands", "Spain", "United Kingdom", "United States",
)
DISCOVERED_TAGS = (
    "Passport", "Email Address", "Person Name", "Credit Card Number", "Phone Number",
    "Date of Birth", "IP Address", "Social Security Number", "Bank Account Number",
    "Postal Code",
)
DATA_PROPERTIES = ("Cross-Sectional", "Time-Series", "Panel")

# name, colour, description
PLAIN_TAGS: tuple[tuple[str, str, str], ...] = (
    ("marketing", "#EC4899", "Part of the marketing stack."),
    ("production", "#2563EB", "Feeds production reporting."),
    ("weekly-refresh", "#0EA5E9", "Refreshed once a week."),
    ("daily-refresh", "#06B6D4", "Refreshed every day."),
    ("owned-by-revops", "#7C3AED", "Owned by the RevOps team."),
    ("ads", "#F43F5E", "Advertising platforms."),
    ("legacy", "#78716C", "Scheduled for retirement."),
    ("Confidential", "#B91C1C", "Restricted to need-to-know access."),
    ("pii", "#BE123C", "Contains personally identifiable information."),
    ("certified", "#16A34A", "Reviewed and certified by the data team."),
    ("needs-review", "#FACC15", "Waiting for a data steward's review."),
    ("gdpr", "#1D4ED8", "In scope for GDPR requests."),
)

# Auto-tagging rules: (name, when, attach, enabled).  Seed 000's Python example ("tag every
# source whose slug ends with -ads") as a saved rule; it is saved after the data is loaded,
# so the -ads sources the plan leaves untagged are there for its preview and back-fill.
RULES: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("Ads sources", "type:source AND name:*-ads", ("ads",), True),
)

AD_PLATFORMS = (
    ("Facebook Ads", "facebook-ads"), ("Google Ads", "google-ads"),
    ("LinkedIn Ads", "linkedin-ads"), ("TikTok Ads", "tiktok-ads"),
    ("Snapchat Ads", "snapchat-ads"), ("Pinterest Ads", "pinterest-ads"),
    ("Microsoft Ads", "microsoft-ads"), ("X Ads", "x-ads"), ("Amazon Ads", "amazon-ads"),
    ("Reddit Ads", "reddit-ads"), ("Apple Search Ads", "apple-search-ads"),
    ("Criteo Ads", "criteo-ads"),
)
REGIONS = (
    ("US", "us"), ("Canada", "ca"), ("Mexico", "mx"), ("Brazil", "br"), ("UK", "uk"),
    ("Germany", "de"), ("France", "fr"), ("Spain", "es"), ("Italy", "it"),
    ("Netherlands", "nl"), ("Nordics", "nordics"), ("India", "in"), ("Japan", "jp"),
    ("Australia", "au"),
)
SAAS_SOURCES = (
    "Salesforce", "HubSpot", "Stripe", "Shopify", "Zendesk", "Intercom", "Segment",
    "Google Analytics 4", "Mixpanel", "Amplitude", "Marketo", "NetSuite", "QuickBooks",
    "Jira", "GitHub", "Slack", "Braze", "Iterable", "Klaviyo", "Mailchimp", "Twilio",
    "Chargebee", "Zuora", "Workday", "Greenhouse", "Gong", "Outreach", "Pendo",
    "Freshdesk", "Xero", "Asana", "Notion", "Airtable", "Google Sheets", "Typeform",
    "SurveyMonkey",
)
DATABASE_SOURCES = (
    "Orders DB (us-east-1)", "Orders DB (eu-west-1)", "Users DB (us-east-1)",
    "Users DB (eu-west-1)", "Billing Postgres", "Inventory MySQL", "Catalog MongoDB",
    "Events Kafka", "Clickstream Kinesis", "Support Postgres", "Legacy Oracle ERP",
    "Legacy SQL Server CRM",
)
DESTINATIONS = (
    "Snowflake Warehouse", "BigQuery Analytics", "Redshift (legacy)", "Databricks Lakehouse",
    "S3 Data Lake", "GCS Archive", "Salesforce (reverse ETL)", "HubSpot (reverse ETL)",
    "Braze (reverse ETL)", "Iterable (reverse ETL)", "Google Sheets Exports",
    "Slack Alerts", "Amplitude Cohorts", "Facebook Custom Audiences",
    "Google Ads Customer Match", "LinkedIn Matched Audiences", "Kafka Topic: analytics",
    "Postgres Reporting Replica", "Elasticsearch Search Index", "Mixpanel Export",
    "Zendesk Sync", "Intercom Sync", "Marketo Sync", "Looker PDT Schema",
    "Tableau Extract Server (legacy)", "Teradata (legacy)", "SFTP Partner Drop (legacy)",
    "Azure Synapse", "ClickHouse Events", "DuckDB Sandbox", "Pinecone Vector Index",
    "Customer.io", "Klaviyo Profiles", "Segment Personas (legacy)", "Hightouch Audiences",
)
TRANSFORMATION_MODELS = (
    "stg_facebook_ads", "stg_google_ads", "stg_linkedin_ads", "stg_tiktok_ads",
    "stg_salesforce_accounts", "stg_salesforce_opportunities", "stg_hubspot_contacts",
    "stg_stripe_charges", "stg_stripe_subscriptions", "stg_shopify_orders",
    "stg_zendesk_tickets", "stg_segment_tracks", "int_ad_spend_unioned",
    "int_customer_identity", "int_order_items", "int_subscription_periods",
    "fct_ad_performance", "fct_orders", "fct_revenue", "fct_mrr", "fct_support_tickets",
    "fct_web_sessions", "fct_marketing_attribution", "dim_customers", "dim_products",
    "dim_campaigns", "dim_accounts", "dim_dates", "dim_employees", "mart_finance_pnl",
    "mart_growth_funnel", "mart_revops_pipeline", "mart_cohort_retention",
    "snapshot_customers", "snapshot_products", "py_churn_features", "py_ltv_model",
    "legacy_sp_daily_rollup", "legacy_sp_customer_merge",
)
VISUALIZATIONS = (
    "Weekly Revenue", "Marketing Attribution", "Ad Spend by Channel", "Pipeline Overview",
    "Bookings vs Forecast", "Churn Watch", "Customer Health", "Support SLA",
    "Executive KPIs", "Cohort Retention", "Funnel Conversion", "Campaign ROAS",
    "Daily Active Users", "Product Usage Heatmap", "Inventory Levels", "Order Fulfilment",
    "MRR Movements", "Cash Flow", "Headcount Plan", "Hiring Funnel", "Web Traffic",
    "SEO Rankings", "Email Engagement", "NPS Trends", "Regional Sales Map",
    "Partner Performance", "Data Freshness Monitor", "Warehouse Costs",
    "Legacy Sales Report", "Board Deck Metrics",
)
LAYERS = (
    "Raw", "Bronze", "Silver", "Gold", "Staging", "Intermediate", "Marts", "Sandbox",
    "Archive", "Reverse ETL",
)
FOLDERS = (
    "Marketing", "Marketing/Paid Social", "Marketing/Search", "Finance",
    "Finance/Reporting", "Finance/Close", "RevOps", "RevOps/Pipeline", "Product",
    "Product/Experiments", "Support", "People", "Data Platform", "Data Platform/Monitoring",
    "Shared", "Archive",
)
TABLES = (
    "raw.facebook_ads_insights", "raw.google_ads_campaign_stats", "raw.salesforce_account",
    "raw.salesforce_opportunity", "raw.hubspot_contact", "raw.stripe_charge",
    "raw.stripe_invoice", "raw.shopify_order", "raw.zendesk_ticket", "raw.segment_tracks",
    "staging.ad_spend", "staging.customers", "staging.orders", "staging.order_items",
    "staging.subscriptions", "staging.tickets", "analytics.fct_orders",
    "analytics.fct_revenue", "analytics.fct_mrr", "analytics.fct_ad_performance",
    "analytics.fct_web_sessions", "analytics.dim_customers", "analytics.dim_products",
    "analytics.dim_campaigns", "analytics.dim_accounts", "analytics.dim_employees",
    "finance.gl_entries", "finance.ar_aging", "finance.budget_vs_actual",
    "finance.payroll_summary", "people.employees", "people.compensation",
    "support.csat_responses", "product.feature_flags", "product.events_daily",
    "sandbox.churn_scores", "sandbox.ltv_predictions", "archive.orders_2019",
    "archive.customers_2019", "archive.legacy_crm_contacts",
)
VOLUMES = (
    "raw-landing", "clickstream-archive", "ml-feature-store", "finance-exports",
    "support-attachments", "marketing-creatives", "warehouse-unload", "backup-snapshots",
    "partner-drops", "tmp-scratch",
)
# Data source themes (seed 003): name -> columns. Ids are integers; columns are
# "<datasource id>_<column>". Seed 003 shows data sources 22 and 523, the column
# "6_countrycode" and the column "49_OBJECTID".
DATASOURCE_THEMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Customer Profiles", ("customer_id", "first_name", "last_name", "email", "phone",
                           "date_of_birth", "street", "city", "state", "zip", "countrycode")),
    ("Orders", ("order_id", "customer_id", "order_total", "currency", "created_at",
                "shipping_city", "shipping_zip", "countrycode")),
    ("Payments", ("payment_id", "order_id", "card_number", "card_expiry", "amount",
                  "billing_zip", "iban")),
    ("Employees", ("employee_id", "full_name", "work_email", "home_address",
                   "passport_number", "ssn", "salary", "countrycode")),
    ("Web Sessions", ("session_id", "ip_address", "user_agent", "countrycode", "started_at",
                      "page_views")),
    ("Marketing Leads", ("lead_id", "email", "first_name", "last_name", "company",
                         "job_title", "countrycode", "lead_source")),
    ("Travel Bookings", ("booking_id", "passenger_name", "passport_number", "nationality",
                         "departure_city", "arrival_city", "fare")),
    ("Support Tickets", ("ticket_id", "customer_id", "email", "subject", "priority",
                         "opened_at", "closed_at")),
    ("Ad Performance", ("campaign_id", "ad_group", "impressions", "clicks", "spend",
                        "countrycode", "day")),
    ("Store Locations", ("OBJECTID", "store_name", "street", "city", "state", "zip",
                         "countrycode", "latitude", "longitude")),
    ("Subscriptions", ("subscription_id", "customer_id", "plan", "mrr", "started_at",
                       "cancelled_at")),
    ("Product Catalog", ("sku", "product_name", "category", "list_price", "launched_at")),
    ("Payroll", ("employee_id", "full_name", "bank_account", "iban", "gross_pay",
                 "pay_date")),
    ("Device Telemetry", ("device_id", "ip_address", "firmware", "reported_at", "battery")),
    ("Partner Contacts", ("partner_id", "full_name", "work_email", "phone", "street",
                          "city", "countrycode")),
)
DATASOURCE_IDS = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 26, 27, 28, 49, 523,
)
PROJECTS = (
    "Customer 360", "Marketing Analytics", "Finance Close", "Churn Prediction",
    "GDPR Requests", "Fraud Detection", "Pricing Experiments", "Supply Chain",
    "People Analytics", "Partner Portal", "Data Quality", "Executive Reporting",
)
NODES = (
    "Q3 planning notes", "Weekly sync with RevOps", "Interview: data engineer",
    "Offsite agenda", "Research: attribution models", "Trip to Berlin", "Hiring plan 2025",
    "1:1 with Mona", "Roadmap brainstorm", "Customer call: Initech", "Reading list",
    "Postmortem: ingestion outage", "Budget review", "Conference notes: dbt Coalesce",
    "Research: vector search", "Travel checklist", "Interview: analytics engineer",
    "Quarterly business review", "Retro: migration sprint", "Ideas backlog",
    "Vendor evaluation: reverse ETL", "Team charter", "Board prep", "Research: LLM tagging",
    "Trip to Tokyo", "Kickoff: Customer 360", "Standup notes", "Interview: product manager",
    "OKR draft", "Security review notes",
)
FILES = (
    "roadmap-2025.pdf", "q3-board-deck.pptx", "attribution-study.docx", "travel-policy.pdf",
    "offsite-photos.zip", "hiring-rubric.xlsx", "budget-fy25.xlsx", "data-contracts.md",
    "architecture-diagram.png", "vendor-comparison.xlsx", "meeting-recording.mp4",
    "research-paper.pdf", "interview-notes.docx", "expense-report.pdf",
    "customer-list.csv", "schema-export.sql", "brand-guidelines.pdf", "okr-tracker.xlsx",
    "incident-timeline.md", "flight-itinerary.pdf", "onboarding-guide.pdf",
    "pricing-model.xlsx", "churn-analysis.ipynb", "sales-playbook.pdf",
    "team-offsite-agenda.docx", "security-questionnaire.xlsx", "dpa-template.docx",
    "survey-results.csv", "release-notes.md", "org-chart.png",
)

# Column name -> tags (seed 003 hierarchies).
COLUMN_TAGS: dict[str, tuple[str, ...]] = {
    "email": ("Discovered.Email Address", "Address.email", "pii"),
    "work_email": ("Discovered.Email Address", "Address.email", "Address.work", "pii"),
    "first_name": ("Discovered.Person Name", "pii"),
    "last_name": ("Discovered.Person Name", "pii"),
    "full_name": ("Discovered.Person Name", "pii"),
    "passenger_name": ("Discovered.Person Name", "pii"),
    "store_name": (),
    "phone": ("Discovered.Phone Number", "pii"),
    "date_of_birth": ("Discovered.Date of Birth", "pii"),
    "street": ("Address.street",),
    "home_address": ("Address.home", "pii"),
    "city": ("Address.city",),
    "shipping_city": ("Address.city",),
    "departure_city": ("Address.city",),
    "arrival_city": ("Address.city",),
    "state": ("Address.state",),
    "zip": ("Address.zip", "Discovered.Postal Code"),
    "shipping_zip": ("Address.zip", "Discovered.Postal Code"),
    "billing_zip": ("Address.zip", "Discovered.Postal Code"),
    "countrycode": ("Address.country",),
    "nationality": ("Address.country",),
    "card_number": ("Discovered.Credit Card Number", "pii"),
    "passport_number": ("Discovered.Passport", "pii"),
    "ssn": ("Discovered.Social Security Number", "pii"),
    "ip_address": ("Discovered.IP Address",),
    "iban": ("Discovered.Bank Account Number",),
    "bank_account": ("Discovered.Bank Account Number",),
}
SENSITIVE_COLUMNS = {"card_number", "passport_number", "ssn", "iban", "bank_account", "salary",
                     "gross_pay", "date_of_birth"}


# --- building the resources -------------------------------------------------------------


@dataclass(frozen=True)
class _Res:
    type: str
    id: str
    name: str
    slug: str


def _uuid_id(rtype: str, slug: str) -> str:
    return str(uuid.uuid5(RESOURCE_NAMESPACE, f"{rtype}:{slug}"))


def _named(rtype: str, names: Sequence[str]) -> list[_Res]:
    result = []
    for name in names:
        slug = slugify(name)
        result.append(_Res(rtype, _uuid_id(rtype, slug), name, slug))
    return result


def _sources() -> list[_Res]:
    result = []
    for name, slug in AD_PLATFORMS:
        result.append(_Res("source", _uuid_id("source", slug), name, slug))
    for region, code in REGIONS:
        for name, slug in AD_PLATFORMS:
            regional = f"{code}-{slug}"
            result.append(_Res("source", _uuid_id("source", regional), f"{name} ({region})",
                               regional))
    result += _named("source", SAAS_SOURCES)
    result += _named("source", DATABASE_SOURCES)
    return result


def _datasources() -> tuple[list[_Res], list[_Res]]:
    """Data sources (integer ids) and their columns (``<datasource id>_<column>``).

    The themes cycle, so data source 6 holds ``countrycode`` and 49 holds ``OBJECTID``.
    """
    themes = list(DATASOURCE_THEMES)
    # Put the themes where the seed 003 examples expect their columns.
    order = {6: "Customer Profiles", 49: "Store Locations", 22: "Travel Bookings",
             523: "Employees"}
    datasources, columns = [], []
    regions = ("", " (EU)", " (APAC)")
    for index, ds_id in enumerate(DATASOURCE_IDS):
        theme_name = order.get(ds_id) or themes[index % len(themes)][0]
        cols = dict(themes)[theme_name]
        same = sum(1 for ds in datasources if ds.name.startswith(theme_name))
        name = f"{theme_name}{regions[same % len(regions)]}"
        if same >= len(regions):
            name = f"{theme_name} #{same + 1}"
        datasources.append(_Res("datasource", str(ds_id), name, slugify(name)))
        for col in cols:
            columns.append(_Res("column", f"{ds_id}_{col}", col, slugify(f"{name} {col}")))
    return datasources, columns


def build_resources() -> list[_Res]:
    """Every demo resource, in a fixed order."""
    datasources, columns = _datasources()
    projects = [_Res("project", str(n), name, slugify(name))
                for n, name in enumerate(PROJECTS, start=1)]
    nodes = [_Res("node", f"node_{n}", name, slugify(name))
             for n, name in enumerate(NODES, start=1)]
    files = [_Res("file", f"file_{n}", name, slugify(name))
             for n, name in enumerate(FILES, start=1)]
    return (
        _sources()
        + _named("transformation", TRANSFORMATION_MODELS)
        + _named("destination", DESTINATIONS)
        + _named("visualization", VISUALIZATIONS)
        + _named("layer", LAYERS)
        + _named("folder", FOLDERS)
        + _named("table", TABLES)
        + _named("volume", VOLUMES)
        + datasources
        + columns
        + projects
        + nodes
        + files
    )


# --- planning the assignments -----------------------------------------------------------


# The resources of each type; a defaultdict, so a type without resources gives [].
_ByType = dict[str, list[_Res]]


@dataclass
class _Plan:
    """(tag name, assignment context) -> the resources the tag goes on."""

    links: dict[tuple[str, str], list[_Res]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, tag: str, resources: Sequence[_Res],
            context: AssignmentContext = AssignmentContext.IMPORT) -> None:
        self.links[(tag, context.value)].extend(resources)

    def calls(self) -> list[tuple[list[str], str, dict[str, list[str]]]]:
        """Attach calls: tags with the same resources and context share one call."""
        grouped: dict[tuple[str, tuple[_Res, ...]], list[str]] = defaultdict(list)
        for (tag, context), resources in self.links.items():
            unique = tuple(sorted(set(resources), key=lambda r: (r.type, r.id)))
            if unique:
                grouped[(context, unique)].append(tag)
        calls = []
        for (context, resources), tags in grouped.items():
            refs: dict[str, list[str]] = defaultdict(list)
            for resource in resources:
                refs[resource.type].append(resource.id)
            calls.append((tags, context, dict(refs)))
        return calls


def _partition(rng: random.Random, resources: Sequence[_Res], tags: Sequence[str],
               weights: Sequence[float], untagged: float) -> dict[str, list[_Res]]:
    """Give each resource at most one of ``tags`` (exclusive groups)."""
    result: dict[str, list[_Res]] = {tag: [] for tag in tags}
    for resource in resources:
        if rng.random() < untagged:
            continue
        result[rng.choices(list(tags), weights=weights)[0]].append(resource)
    return result


def plan_assignments(resources: Sequence[_Res]) -> _Plan:
    """Which tags go on which resources, and in which assignment context.

    The steps draw from one ``random.Random(SEED)`` in a fixed order, so the plan is the
    same on every run.
    """
    rng = random.Random(SEED)
    by_type: _ByType = defaultdict(list)
    for resource in resources:
        by_type[resource.type].append(resource)
    plan = _Plan()
    _plan_priority(rng, plan, resources)
    _plan_environment(rng, plan, by_type)
    _plan_teams(rng, plan, resources)
    _plan_sensitivity(rng, plan, by_type)
    _plan_column_discoveries(rng, plan, by_type["column"])
    _plan_datasource_findings(rng, plan, by_type)
    _plan_curated_tags(rng, plan, by_type)
    _plan_notes(rng, plan, by_type)
    return plan


def _plan_priority(rng: random.Random, plan: _Plan, resources: Sequence[_Res]) -> None:
    """priority::urgent/normal/backlog on every type (exclusive: one per resource)."""
    for tag, chosen in _partition(rng, resources, ["urgent", "normal", "backlog"],
                                  [2, 5, 3], untagged=0.25).items():
        plan.add(f"priority::{tag}", chosen, AssignmentContext.MANUAL)


def _plan_environment(rng: random.Random, plan: _Plan, by_type: _ByType) -> None:
    """environment::… on the pipeline and warehouse types."""
    env_types = ("source", "transformation", "destination", "table", "volume", "datasource",
                 "project", "layer")
    env_resources = [r for t in env_types for r in by_type[t]]
    for tag, chosen in _partition(rng, env_resources, ["production", "staging", "development"],
                                  [6, 2, 2], untagged=0.1).items():
        plan.add(f"environment::{tag}", chosen, AssignmentContext.IMPORT)


def _plan_teams(rng: random.Random, plan: _Plan, resources: Sequence[_Res]) -> None:
    """team::… (not exclusive): one or two teams on most non-column resources."""
    teams = ["revops", "data-platform", "growth", "finance"]
    for resource in resources:
        if resource.type == "column" or rng.random() < 0.15:
            continue
        for team in rng.sample(teams, k=rng.choice([1, 1, 1, 2])):
            plan.add(f"team::{team}", [resource], AssignmentContext.MANUAL)


def _plan_sensitivity(rng: random.Random, plan: _Plan, by_type: _ByType) -> None:
    """sensitivity::… on data sources, tables and columns only (the group allows no more)."""
    rule = AssignmentContext.RULE
    columns = by_type["column"]
    sensitive = [c for c in columns if c.name in SENSITIVE_COLUMNS]
    personal = [c for c in columns if c.name not in SENSITIVE_COLUMNS
                and any(t == "pii" for t in COLUMN_TAGS.get(c.name, ()))]
    plain_columns = [c for c in columns if c not in sensitive and c not in personal]
    plan.add("sensitivity::restricted", sensitive, rule)
    plan.add("sensitivity::confidential", personal, rule)
    for tag, chosen in _partition(rng, plain_columns, ["public", "internal"], [1, 3],
                                  untagged=0.1).items():
        plan.add(f"sensitivity::{tag}", chosen, rule)
    for tag, chosen in _partition(rng, by_type["datasource"] + by_type["table"],
                                  ["public", "internal", "confidential", "restricted"],
                                  [1, 4, 3, 2], untagged=0.05).items():
        plan.add(f"sensitivity::{tag}", chosen, AssignmentContext.MANUAL)


def _plan_column_discoveries(rng: random.Random, plan: _Plan, columns: Sequence[_Res]) -> None:
    """Columns: Discovered.* and Address.* by column name (a classifier's "rule")."""
    rule = AssignmentContext.RULE
    for column in columns:
        for tag in COLUMN_TAGS.get(column.name, ()):
            plan.add(tag, [column], rule)
        if column.name in ("countrycode", "nationality"):
            for country in rng.sample(COUNTRIES, k=rng.randint(1, 3)):
                plan.add(f"Discovered.Country.{country}", [column], rule)


def _plan_datasource_findings(rng: random.Random, plan: _Plan, by_type: _ByType) -> None:
    """Data sources: countries found in them, data properties, Confidential, pii, gdpr."""
    rule = AssignmentContext.RULE
    datasources, columns = by_type["datasource"], by_type["column"]
    for datasource in datasources:
        for country in rng.sample(COUNTRIES, k=rng.randint(1, 4)):
            plan.add(f"Discovered.Country.{country}", [datasource], rule)
        plan.add(f"DataProperties.{rng.choices(DATA_PROPERTIES, [5, 4, 1])[0]}", [datasource],
                 rule)
    plan.add("Discovered.Passport", [d for d in datasources
                                     if f"{d.id}_passport_number" in {c.id for c in columns}],
             rule)
    plan.add("Confidential", rng.sample(datasources, 10) + rng.sample(by_type["project"], 4),
             AssignmentContext.API)
    plan.add("pii", [d for d in datasources if any(
        c.id.startswith(f"{d.id}_") and "pii" in COLUMN_TAGS.get(c.name, ()) for c in columns
    )], rule)
    plan.add("gdpr", rng.sample(datasources, 12) + rng.sample(by_type["project"], 3),
             AssignmentContext.MANUAL)


def _plan_curated_tags(rng: random.Random, plan: _Plan, by_type: _ByType) -> None:
    """Plain curated tags of seeds 000/001 on the pipeline types."""
    manual, api, imported = (AssignmentContext.MANUAL, AssignmentContext.API,
                             AssignmentContext.IMPORT)
    datasources = by_type["datasource"]
    sources = by_type["source"]
    ads_sources = [s for s in sources if s.slug.endswith("-ads")]
    global_ads = [s for s in ads_sources if s.slug in {slug for _, slug in AD_PLATFORMS}]
    plan.add("ads", global_ads, manual)  # the rest is left for the "-ads" bulk example
    plan.add("marketing", global_ads + rng.sample(ads_sources, 40)
             + [s for s in sources if s.name in {"HubSpot", "Marketo", "Braze", "Iterable",
                                                 "Klaviyo", "Mailchimp", "Segment"}]
             + rng.sample(by_type["destination"], 8) + rng.sample(by_type["visualization"], 8)
             + [t for t in by_type["transformation"] if "_ads" in t.name], api)
    pipeline = [r for t in ("source", "transformation", "destination", "visualization",
                            "layer", "folder", "table", "volume") for r in by_type[t]]
    plan.add("production", rng.sample(pipeline, 160), api)
    refreshed = by_type["source"] + by_type["transformation"] + by_type["table"]
    shuffled = rng.sample(refreshed, len(refreshed))
    plan.add("daily-refresh", shuffled[: len(shuffled) // 2], imported)
    plan.add("weekly-refresh", shuffled[len(shuffled) // 2: len(shuffled) * 4 // 5], imported)
    plan.add("owned-by-revops", [s for s in sources if s.name in {
        "Salesforce", "HubSpot", "Outreach", "Gong", "Marketo", "Chargebee"}]
        + rng.sample(ads_sources, 25) + rng.sample(by_type["visualization"], 6), manual)
    plan.add("legacy", [r for r in pipeline if "legacy" in r.name.lower()]
             + rng.sample(by_type["destination"], 6) + rng.sample(by_type["volume"], 2),
             manual)
    plan.add("certified", rng.sample(by_type["table"], 15)
             + rng.sample(by_type["visualization"], 10) + rng.sample(datasources, 8), manual)
    plan.add("needs-review", rng.sample(pipeline, 30) + rng.sample(datasources, 5), api)


def _plan_notes(rng: random.Random, plan: _Plan, by_type: _ByType) -> None:
    """Seed 004 nodes and files: topics, and a few plain tags."""
    notes = by_type["node"] + by_type["file"]
    for resource in notes:
        for topic in rng.sample(GROUP_TAGS["topic"], k=rng.choice([1, 1, 2])):
            plan.add(f"topic::{topic[0]}", [resource], AssignmentContext.MANUAL)
    plan.add("Confidential", rng.sample(notes, 8), AssignmentContext.MANUAL)
