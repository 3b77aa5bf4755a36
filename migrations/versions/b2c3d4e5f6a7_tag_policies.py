"""tag policies (issue 12 §2)

``tag_policies``: per scope, a name unique by key, the resource types and ``where``
expression it covers, the groups each covered resource must carry a tag of and the tags
(with their subtrees) it must not carry, both by id; ``mode`` report or enforce.

A plain CREATE TABLE: nothing existing changes.

Revision ID: b2c3d4e5f6a7
Revises: f6f80d55fb53
Create Date: 2026-12-05 09:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

import webapp.models.types

# revision identifiers, used by Alembic.
revision = 'b2c3d4e5f6a7'
down_revision = 'f6f80d55fb53'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tag_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_key', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('resource_types', sa.JSON(), nullable=False),
    sa.Column('where_expression', sa.Text(), nullable=True),
    sa.Column('require_groups', sa.JSON(), nullable=False),
    sa.Column('forbid_tags', sa.JSON(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', webapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', webapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tag_policies_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scope_id'], ['scopes.id'], name=op.f('fk_tag_policies_scope_id_scopes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_tag_policies_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_policies'))
    )
    op.create_index('uq_tag_policies_scope_name', 'tag_policies', ['scope_id', 'name_key'], unique=True)


def downgrade():
    op.drop_index('uq_tag_policies_scope_name', table_name='tag_policies')
    op.drop_table('tag_policies')
