"""the comments each bulk hide hid, as rows

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 20:50:00

Which comments an 應急處置 bulk hide hid was kept only in its record's JSON ("hidden"), which a
section-scoped moderator's reach (portal.domain.records.in_reach), one SQL condition on both
databases, cannot read: a whole-site moderator's or an admin's bulk hide that hid comments in a
scoped moderator's sections never showed on their 應急處置 page or in their record. Each hidden
comment is now a row of bulk_hide_comment, with its article (the sections are read through it),
written with the act; this fills it from the JSON of the acts already recorded. Ids in the JSON
that are no comment are left out.
"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# The tables as this revision reads and writes them (the models may change later).
moderation_action = sa.table(
    'moderation_action', sa.column('id', sa.Integer), sa.column('action', sa.String), sa.column('after', sa.Text)
)
comment = sa.table('comment', sa.column('id', sa.Integer), sa.column('article_id', sa.Integer))
bulk_hide_comment = sa.table(
    'bulk_hide_comment',
    sa.column('action_id', sa.Integer),
    sa.column('comment_id', sa.Integer),
    sa.column('article_id', sa.Integer),
)
CHUNK = 500


def upgrade():
    op.create_table('bulk_hide_comment',
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['moderation_action.id'], name=op.f('fk_bulk_hide_comment_action_id_moderation_action')),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_bulk_hide_comment_article_id_article')),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_bulk_hide_comment_comment_id_comment')),
    sa.PrimaryKeyConstraint('action_id', 'comment_id', name=op.f('pk_bulk_hide_comment'))
    )
    with op.batch_alter_table('bulk_hide_comment', schema=None) as batch_op:
        batch_op.create_index('ix_bulk_hide_comment_article', ['article_id', 'action_id'], unique=False)

    backfill(op.get_bind())


def hidden_ids(after):
    """The comment ids a record's JSON names as hidden, once each, in order; nothing if unreadable."""
    try:
        values = json.loads(after or '{}')
    except ValueError:
        return []
    hidden = values.get('hidden') if isinstance(values, dict) else None
    if not isinstance(hidden, list):
        return []
    # Whole numbers a key can hold (SQLite refuses a larger one outright), not true or false.
    return list(dict.fromkeys(v for v in hidden if type(v) is int and 0 < v < 2**63))


def backfill(connection):
    """A row for each comment each recorded bulk hide names, read act by act in id order."""
    last = 0
    while True:
        acts = connection.execute(
            sa.select(moderation_action.c.id, moderation_action.c.after)
            .where(moderation_action.c.action == 'emergency.bulk_hide', moderation_action.c.id > last)
            .order_by(moderation_action.c.id)
            .limit(CHUNK)
        ).all()
        if not acts:
            return
        for action_id, after in acts:
            ids = hidden_ids(after)
            for start in range(0, len(ids), CHUNK):
                found = connection.execute(
                    sa.select(comment.c.id, comment.c.article_id).where(comment.c.id.in_(ids[start : start + CHUNK]))
                ).all()
                if found:
                    connection.execute(
                        bulk_hide_comment.insert(),
                        [{'action_id': action_id, 'comment_id': c, 'article_id': a} for c, a in found],
                    )
        last = acts[-1][0]


def downgrade():
    # The JSON still names every hidden comment: nothing is lost.
    with op.batch_alter_table('bulk_hide_comment', schema=None) as batch_op:
        batch_op.drop_index('ix_bulk_hide_comment_article')

    op.drop_table('bulk_hide_comment')
