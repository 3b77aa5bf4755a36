"""assignment removals keep link ids as values

An undo record of a removed link keeps its tag, resource and user ids as plain values, as
audit events do: they were checked when the link was made, those rows are never deleted
(only marked), and an undo puts the link back through the foreign keys of
``assignments``.  Checking the three parents for every copied row took a quarter of the
time SQLite spent copying 100,000 links on a detach.  The tag_id index served only the
dropped cascade.  The change-set keys stay.

SQLite runs this in batch mode (the table is recreated); no trigger lives on it.

Revision ID: 744ee99ff78d
Revises: f13f1d49d83d
Create Date: 2026-11-22 13:35:40.716724

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '744ee99ff78d'
down_revision = 'f13f1d49d83d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignment_removals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_removals_tag_id'))
        batch_op.drop_constraint(batch_op.f('fk_assignment_removals_resource_id_resources'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_assignment_removals_tag_id_tags'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_assignment_removals_added_by_id_users'),
                                 type_='foreignkey')


def downgrade():
    with op.batch_alter_table('assignment_removals', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_assignment_removals_added_by_id_users'),
                                    'users', ['added_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_assignment_removals_tag_id_tags'),
                                    'tags', ['tag_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_assignment_removals_resource_id_resources'),
                                    'resources', ['resource_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_assignment_removals_tag_id'), ['tag_id'],
                              unique=False)
