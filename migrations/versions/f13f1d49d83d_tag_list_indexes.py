"""tag list indexes: live tags of a scope in path order, sources of a scope

Counting a scope's live tags (every tag page) read every row: SQLite chose the
(scope_id, public_id) index and checked deleted_at in the table.  With
(scope_id, deleted_at, path_key) the count reads the index alone and a page walks it in
path order.  (scope_id, source) serves the page's list of sources.

Plain CREATE INDEX (no batch mode): a SQLite batch migration would recreate ``tags`` and
drop the FTS triggers of revision 4303508b8404.

Revision ID: f13f1d49d83d
Revises: 4303508b8404
Create Date: 2026-11-23 12:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f13f1d49d83d'
down_revision = '4303508b8404'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_tags_scope_live_path_key', 'tags',
                    ['scope_id', 'deleted_at', 'path_key'], unique=False)
    op.create_index('ix_tags_scope_source', 'tags', ['scope_id', 'source'], unique=False)


def downgrade():
    op.drop_index('ix_tags_scope_source', table_name='tags')
    op.drop_index('ix_tags_scope_live_path_key', table_name='tags')
