"""hierarchy branches: live tags by group, parent and path

The hierarchy page counts a group's live tags and lists its root tags in path order.  With
no index for either, SQLite read all 100,000 live tags of a scope twice (count 30 ms; the
roots in path order 49 ms, walking the path index to find 100 roots): the page took
130 ms.  ``(scope_id, group_id, parent_id, path_key) WHERE deleted_at IS NULL`` answers the
count from the index (7 ms) and the roots directly (0.3 ms).

Plain CREATE INDEX (no batch mode): a SQLite batch migration would recreate ``tags`` and
drop the FTS triggers of revision 4303508b8404.

Revision ID: d3a8f0c6e2b1
Revises: b7c1e5a2d9f4
Create Date: 2026-11-22 15:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd3a8f0c6e2b1'
down_revision = 'b7c1e5a2d9f4'
branch_labels = None
depends_on = None

LIVE = sa.text('deleted_at IS NULL')


def upgrade():
    op.create_index('ix_tags_live_branch', 'tags',
                    ['scope_id', 'group_id', 'parent_id', 'path_key'], unique=False,
                    sqlite_where=LIVE, postgresql_where=LIVE)


def downgrade():
    op.drop_index('ix_tags_live_branch', table_name='tags', sqlite_where=LIVE,
                  postgresql_where=LIVE)
