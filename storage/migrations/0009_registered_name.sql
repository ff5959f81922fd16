-- The name an admin registered a person under (an import's Name column). Telegram's first name is
-- refreshed whenever they write (芳芳), so managers would otherwise see that instead of 王芳.
ALTER TABLE users ADD COLUMN registered_name TEXT;
