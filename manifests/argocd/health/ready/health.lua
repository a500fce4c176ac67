-- Argo CD health for the claims of idp's data products that take no write fence
-- (platform.example.org/PostgreSQLInstanceClaim and RedisInstanceClaim; argocd-cm keys
-- resource.customizations.health.platform.example.org_<Kind>, idp's argocd-cm patch).
--
-- Argo CD cannot assess a platform.example.org claim by itself, so without this it
-- would not wait for one between sync waves or report it Progressing while the cloud
-- builds it. Healthy once Crossplane reports the claim Ready; Degraded when Synced is
-- False; Progressing otherwise. MySQL's claims have their own check, which also waits
-- for the write fence (platform.example.org_MySQLInstanceClaim/health.lua).
--
-- Argo CD runs it with gopher-lua (Lua 5.1): plain tables and string functions only.
-- Tested in the idp project by tests/health_lua.rs.

local hs = { status = "Progressing", message = "Waiting for Crossplane to report the claim's status" }

local function condition(type_name)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == type_name then
      return c
    end
  end
  return nil
end

local function explained(c)
  local text = c.type .. "=" .. tostring(c.status)
  if c.reason ~= nil and c.reason ~= "" then
    text = text .. " (" .. c.reason .. ")"
  end
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Being deleted"
  return hs
end

local synced = condition("Synced")
if synced ~= nil and synced.status == "False" then
  hs.status = "Degraded"
  hs.message = explained(synced)
  return hs
end

local ready = condition("Ready")
if ready == nil then
  return hs
end
if ready.status ~= "True" then
  -- Progressing, not Degraded, for the reasons the MySQL check gives (Ready=False with
  -- reason Waiting until the composite is Ready; Argo CD's *.crossplane.io check agrees).
  hs.message = explained(ready)
  return hs
end

hs.status = "Healthy"
hs.message = "Ready"
return hs
