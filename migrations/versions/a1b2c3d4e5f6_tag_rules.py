"""auto-tagging rules (issue 12 §3)

``tag_rules``: per scope, a name unique by key, the ``when`` tag expression (its text, as
typed), the tag names it attaches (a JSON list), whether it runs on every registration,
and who created and last changed it, when.

A plain CREATE TABLE: nothing existing changes.

Revision ID: a1b2c3d4e5f6
Revises: b2c3d4e5f6a7
Create Date: 2026-12-05 09:15:00.000000

"""
import sqlalchemy as sa
from alembic import op

import webapp.models.types

# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e5f6'
down_revision = 'b2c3d4e5f6a7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tag_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_key', sa.String(length=300), nullable=False),
    sa.Column('when', sa.Text(), nullable=False),
    sa.Column('attach', sa.JSON(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', webapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', webapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tag_rules_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scope_id'], ['scopes.id'], name=op.f('fk_tag_rules_scope_id_scopes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_tag_rules_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_rules'))
    )
    op.create_index('uq_tag_rules_scope_name', 'tag_rules', ['scope_id', 'name_key'], unique=True)


def downgrade():
    op.drop_index('uq_tag_rules_scope_name', table_name='tag_rules')
    op.drop_table('tag_rules')
