-- Argo CD health check for tfcmcp.dev/TfcMcpServer (gopher-lua, Lua 5.1).
--   Progressing  no status yet, status older than the spec (observedGeneration),
--                or no Ready condition / Ready=Unknown / Ready stale
--   Healthy      Ready=True
--   Degraded     Expired=True ("Expired at <time>"; only expiryPolicy Retain
--                keeps an expired resource), or Ready=False ("<reason>: <message>")
local hs = {status = "Progressing", message = "Waiting for the tfc-mcp operator"}

local function find(conditions, type_)
  if conditions == nil then return nil end
  for _, c in ipairs(conditions) do
    if c.type == type_ then return c end
  end
  return nil
end

local function describe(c)
  local reason = c.reason or ""
  local message = c.message or ""
  if reason ~= "" and message ~= "" then return reason .. ": " .. message end
  if reason ~= "" then return reason end
  return message
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Being deleted (the operator removes its Secrets first)"
  return hs
end
if obj.status == nil then
  return hs
end

local generation = obj.metadata and obj.metadata.generation or nil
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Reconciling generation " .. tostring(generation)
  return hs
end

local conditions = obj.status.conditions
local expired = find(conditions, "Expired")
if expired ~= nil and expired.status == "True" then
  -- Only expiryPolicy Retain leaves an expired resource behind: its URL is
  -- revoked for good. Degraded until someone removes it or moves expiresAt.
  hs.status = "Degraded"
  local at = obj.status.expiresAt or (obj.spec and obj.spec.expiresAt)
  if at ~= nil then
    hs.message = "Expired at " .. at
  else
    hs.message = "Expired: " .. describe(expired)
  end
  return hs
end

local ready = find(conditions, "Ready")
if ready == nil or ready.status == "Unknown" then
  return hs
end
if ready.observedGeneration ~= nil and generation ~= nil and ready.observedGeneration < generation then
  hs.message = "Reconciling generation " .. tostring(generation)
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  if hs.message == "" then hs.message = "Ready" end
  return hs
end
hs.status = "Degraded"
hs.message = describe(ready)
return hs
