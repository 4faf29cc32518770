"""gallery pictures: a photo set is its own table

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 16:10:00

A picture belonged to at most one 圖說 set (media.article_id), so choosing it for a second set took it
out of the first. Each set's pictures are now rows of gallery_picture, in order; one picture may
serve in several sets. Existing sets are copied over in their order.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('gallery_picture',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('media_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_gallery_picture_article_id_article')),
    sa.ForeignKeyConstraint(['media_id'], ['media.id'], name=op.f('fk_gallery_picture_media_id_media')),
    sa.PrimaryKeyConstraint('article_id', 'position', name=op.f('pk_gallery_picture'))
    )
    with op.batch_alter_table('gallery_picture', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gallery_picture_media_id'), ['media_id'], unique=False)

    op.execute(
        "INSERT INTO gallery_picture (article_id, position, media_id) "
        "SELECT article_id, ROW_NUMBER() OVER (PARTITION BY article_id ORDER BY position, id) - 1, id "
        "FROM media WHERE article_id IS NOT NULL"
    )
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_media_article_id_article'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_media_article_id'))
        batch_op.drop_column('position')
        batch_op.drop_column('article_id')


def downgrade():
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('article_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=False, server_default='0'))
    # A picture in several sets goes back to the first of them.
    op.execute(
        "UPDATE media SET article_id = (SELECT min(g.article_id) FROM gallery_picture g WHERE g.media_id = media.id)"
    )
    op.execute(
        "UPDATE media SET position = (SELECT min(g.position) FROM gallery_picture g "
        "WHERE g.media_id = media.id AND g.article_id = media.article_id) WHERE article_id IS NOT NULL"
    )
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.alter_column('position', server_default=None)
        batch_op.create_index(batch_op.f('ix_media_article_id'), ['article_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_media_article_id_article'), 'article', ['article_id'], ['id'])
    op.drop_table('gallery_picture')
