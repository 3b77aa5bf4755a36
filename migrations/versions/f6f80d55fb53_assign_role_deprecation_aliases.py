"""a group's assign role, tag deprecation, tag aliases

* ``tag_groups.assign_role``: the least role that may attach or detach the group's tags
  (``editor``, the default for existing groups, or ``manager``);
* ``tags.deprecated_at`` / ``tags.replacement_id``: a deprecated tag stays where it is but
  is not attached again; the replacement is the tag to use instead (a plain id: adding a
  named foreign key on SQLite copies ``tags`` and drops its search triggers);
* ``tag_aliases``: other names of a tag, unique per scope by key (NFKC + casefold).

Nothing existing changes meaning: no group is restricted, no tag deprecated, no alias.

Revision ID: f6f80d55fb53
Revises: 5e1d7c0a9b24
Create Date: 2026-12-05 08:24:11.221698

"""
import sqlalchemy as sa
from alembic import op

import webapp.models.types

# revision identifiers, used by Alembic.
revision = 'f6f80d55fb53'
down_revision = '5e1d7c0a9b24'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tag_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=1100), nullable=False),
    sa.Column('alias_key', sa.String(length=1100), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', webapp.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tag_aliases_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scope_id'], ['scopes.id'], name=op.f('fk_tag_aliases_scope_id_scopes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_tag_aliases_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_aliases'))
    )
    with op.batch_alter_table('tag_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tag_aliases_tag_id'), ['tag_id'], unique=False)
        batch_op.create_index('uq_tag_aliases_scope_key', ['scope_id', 'alias_key'], unique=True)

    with op.batch_alter_table('tag_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assign_role', sa.String(length=20), server_default='editor', nullable=False))

    # Plain ADD COLUMN on tags: a batch copy would drop SQLite's search triggers.
    op.add_column('tags', sa.Column('deprecated_at', webapp.models.types.UTCDateTime(timezone=True), nullable=True))
    op.add_column('tags', sa.Column('replacement_id', sa.Integer(), nullable=True))


def downgrade():
    op.drop_column('tags', 'replacement_id')
    op.drop_column('tags', 'deprecated_at')

    with op.batch_alter_table('tag_groups', schema=None) as batch_op:
        batch_op.drop_column('assign_role')

    with op.batch_alter_table('tag_aliases', schema=None) as batch_op:
        batch_op.drop_index('uq_tag_aliases_scope_key')
        batch_op.drop_index(batch_op.f('ix_tag_aliases_tag_id'))

    op.drop_table('tag_aliases')
