"""Every rule of who may see and do what, in one folder, one module per layer:

- `access.workspaces`: memberships and roles (who is a member, an admin, an owner);
- `access.threads`: spaces, threads and posts;
- `access.recordings`: recordings and collections.

Each module re-exports the rules of the ones below it, so an app imports the module of its
own layer (or the highest one below it) as `access` and reads every rule from it; a module
never imports one above it. Views and queries call these rules; none spells one again.
"""
