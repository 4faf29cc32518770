"""a 消息 names the reader it tells of by reference, not by a copy of their name

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-07 23:30:00

A reply's 消息 read 「阿博 回覆了您的評論：…」 with the name copied into the text: after 阿博 renamed,
deregistered (已註銷用戶 everywhere else) or was anonymised and their name freed for someone else,
other readers' 消息 still said 阿博. Now the notice keeps actor_id and the page shows the actor's
name as it is.

The existing reply notices get their actor from the comment their link points at
(/articles/<id>#comment-<id>), and the name is cut from the front of their text: the author's name
of now when the text starts with it, else what stands before the first 「 回覆了您的評論：」 (a name
from before a rename). A notice whose comment is gone keeps its text as it was. The downgrade puts
the actor's name of now back in front.
"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None

BATCH = 1000
REPLIED = ' 回覆了您的評論：'
LINKED_COMMENT = re.compile(r'#comment-([0-9]+)$')
_NOTICES = sa.table(
    'notification',
    sa.column('id'),
    sa.column('kind'),
    sa.column('text'),
    sa.column('link'),
    sa.column('actor_id'),
)
_COMMENTS = sa.table('comment', sa.column('id'), sa.column('author_id'))
_USERS = sa.table('user_account', sa.column('id'), sa.column('nickname'))


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_notification_actor_id_user_account'), 'user_account', ['actor_id'], ['id']
        )
        batch_op.create_index('ix_notification_actor', ['actor_id'], unique=False)
    _name_actors(op.get_bind())


def _without_name(text: str, nickname: str) -> str | None:
    if text.startswith(nickname + REPLIED):
        return text[len(nickname) + 1 :]
    before, found, after = text.partition(REPLIED)
    return found[1:] + after if found and before else None


def _name_actors(connection) -> None:
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_NOTICES.c.id, _NOTICES.c.text, _NOTICES.c.link)
            .where(_NOTICES.c.id > last, _NOTICES.c.kind == 'reply')
            .order_by(_NOTICES.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        comment_of = {}
        for row in rows:
            if linked := LINKED_COMMENT.search(row.link or ''):
                comment_of[row.id] = int(linked.group(1))
        authors = {
            comment_id: (author_id, nickname)
            for comment_id, author_id, nickname in connection.execute(
                sa.select(_COMMENTS.c.id, _USERS.c.id, _USERS.c.nickname)
                .join(_USERS, _USERS.c.id == _COMMENTS.c.author_id)
                .where(_COMMENTS.c.id.in_(set(comment_of.values())))
            )
        }
        changes = []
        for row in rows:
            author = authors.get(comment_of.get(row.id))
            if author is None:
                continue
            author_id, nickname = author
            text = _without_name(row.text, nickname)
            if text is not None:
                changes.append({'notice_id': row.id, 'actor': author_id, 'new_text': text})
        if changes:
            connection.execute(
                sa.update(_NOTICES)
                .where(_NOTICES.c.id == sa.bindparam('notice_id'))
                .values(actor_id=sa.bindparam('actor'), text=sa.bindparam('new_text')),
                changes,
            )


def downgrade():
    connection = op.get_bind()
    named = connection.execute(
        sa.select(_NOTICES.c.id, _NOTICES.c.text, _USERS.c.nickname).join(
            _USERS, _USERS.c.id == _NOTICES.c.actor_id
        )
    ).all()
    if named:
        connection.execute(
            sa.update(_NOTICES)
            .where(_NOTICES.c.id == sa.bindparam('notice_id'))
            .values(text=sa.bindparam('new_text')),
            [{'notice_id': n.id, 'new_text': f'{n.nickname} {n.text}'} for n in named],
        )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_actor')
        batch_op.drop_constraint(batch_op.f('fk_notification_actor_id_user_account'), type_='foreignkey')
        batch_op.drop_column('actor_id')
