"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 08:35:46.974597

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('section',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('layout', sa.String(length=16), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('pre_review', sa.Boolean(), nullable=False),
    sa.Column('comments_closed', sa.Boolean(), nullable=False),
    sa.Column('auto_close_days', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['section.id'], name=op.f('fk_section_parent_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_section')),
    sa.UniqueConstraint('slug', name=op.f('uq_section_slug'))
    )
    with op.batch_alter_table('section', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_section_parent_id'), ['parent_id'], unique=False)

    op.create_table('site_setting',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_site_setting'))
    )
    op.create_table('page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('in_footer', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page')),
    sa.UniqueConstraint('slug', name=op.f('uq_page_slug'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nickname', sa.String(length=32), nullable=False),
    sa.Column('phone_cipher', sa.LargeBinary(), nullable=False),
    sa.Column('phone_hmac', sa.String(length=64), nullable=False),
    sa.Column('phone_verified_at', sa.DateTime(), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('can_view_pii', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('muted_until', sa.DateTime(), nullable=True),
    sa.Column('credit', sa.Integer(), nullable=False),
    sa.Column('terms_version', sa.String(length=32), nullable=False),
    sa.Column('terms_accepted_at', sa.DateTime(), nullable=True),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('nickname', name=op.f('uq_user_account_nickname')),
    sa.UniqueConstraint('phone_hmac', name=op.f('uq_user_account_phone_hmac')),
    sa.UniqueConstraint('session_token', name=op.f('uq_user_account_session_token'))
    )
    op.create_table('media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('mime', sa.String(length=64), nullable=False),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.Column('credit', sa.String(length=120), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('variants', sa.String(length=64), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media')),
    sa.UniqueConstraint('path', name=op.f('uq_media_path'))
    )
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_article_id'), ['article_id'], unique=False)

    op.create_table('article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('reporters', sa.String(length=200), nullable=False),
    sa.Column('editor', sa.String(length=32), nullable=False),
    sa.Column('editor_note', sa.Text(), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('comments_state', sa.String(length=16), nullable=False),
    sa.Column('cover_id', sa.Integer(), nullable=True),
    sa.Column('player_id', sa.Integer(), nullable=True),
    sa.Column('comment_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['cover_id'], ['media.id'], name=op.f('fk_article_cover_id_media')),
    sa.ForeignKeyConstraint(['player_id'], ['media.id'], name=op.f('fk_article_player_id_media')),
    sa.ForeignKeyConstraint(['section_id'], ['section.id'], name=op.f('fk_article_section_id_section')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_article'))
    )
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.create_index('ix_article_published', ['published_at', 'id'], unique=False)
        batch_op.create_index('ix_article_section_published', ['section_id', 'published_at', 'id'], unique=False)

    # media.article_id and article.cover_id point at each other: the second key comes last.
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_media_article_id_article'), 'article', ['article_id'], ['id'])

    # 站內搜索: FTS5 with the trigram tokenizer finds Chinese substrings (SQLite 3.34+).
    # PostgreSQL searches with ILIKE until the scale-out issue adds pg_trgm.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("CREATE VIRTUAL TABLE article_fts USING fts5(title, body_text, content='article', content_rowid='id', tokenize='trigram')")
        op.execute("CREATE TRIGGER article_fts_insert AFTER INSERT ON article BEGIN INSERT INTO article_fts(rowid, title, body_text) VALUES (new.id, new.title, new.body_text); END")
        op.execute("CREATE TRIGGER article_fts_delete AFTER DELETE ON article BEGIN INSERT INTO article_fts(article_fts, rowid, title, body_text) VALUES ('delete', old.id, old.title, old.body_text); END")
        op.execute("CREATE TRIGGER article_fts_update AFTER UPDATE OF title, body_text ON article BEGIN INSERT INTO article_fts(article_fts, rowid, title, body_text) VALUES ('delete', old.id, old.title, old.body_text); INSERT INTO article_fts(rowid, title, body_text) VALUES (new.id, new.title, new.body_text); END")


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for trigger in ('article_fts_insert', 'article_fts_delete', 'article_fts_update'):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS article_fts")
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_media_article_id_article'), type_='foreignkey')
    for table in ('article', 'media', 'user_account', 'page', 'site_setting', 'section'):
        op.drop_table(table)
