// Unit tests must never see the runner's real inputs or state.
for (const key of Object.keys(process.env)) {
  if (key.startsWith('INPUT_') || key.startsWith('STATE_')) delete process.env[key]
}
