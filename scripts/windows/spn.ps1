<#
.SYNOPSIS
Moves the Kerberos service principal names (SPNs) of DNS aliases from one FSx for Windows File Server file
system's Active Directory computer object to another's.

.DESCRIPTION
Runs on a domain-joined Windows host with the Active Directory PowerShell module (RSAT-AD-PowerShell);
fsx-migrate sends it through SSM AWS-RunPowerShellScript. It talks to a domain controller directly, not to
the file system's Windows Remote PowerShell endpoint.

Clients that reach a file system by a DNS alias get Kerberos only if the alias's SPNs are on that file
system's computer object, and an SPN can be on one object only (FSx for Windows guide, "Configure SPNs for
Kerberos authentication"). For each alias (an FQDN such as finance.corp.example.com) the SPNs are
HOST/<alias> and HOST/<first label of the alias> (HOST/finance.corp.example.com, HOST/finance), compared
without regard to case.

First, before any change, it finds every object in the domain that holds each SPN (Get-ADObject
-LDAPFilter "(servicePrincipalName=...)"). If any SPN is held by an object that is neither the old nor the
new file system's computer object (say a live server named FINANCE holding HOST/finance), the alias's name
is in use by that object: the script changes nothing and ends with FSXMIGRATE-ERROR naming each such SPN
and its holders (name and distinguished name). A person must resolve that (if the SPN is stale, remove it,
e.g. setspn -D HOST/finance FINANCE) and run the script again; the script never takes an SPN from an object
other than the old file system's computer. Otherwise, for each SPN:

1. Removes it from the old file system's computer object if that holds it (Set-ADComputer
   -ServicePrincipalNames @{Remove=...}). Removing first matters: domain controllers refuse to add an SPN
   that another object holds.
2. Adds it to the target computer if it is not there (Set-ADComputer -ServicePrincipalNames @{Add=...}).
Then it reads every SPN again: each must be on the target computer and on no other object.

Running it again changes nothing and reports every SPN as already in place. The rollback is the same script
with -Endpoint and -FromDnsName swapped. Every call goes to one domain controller (found once, at the
start), so that the final check reads what the changes wrote.

Standard output: progress lines, then as the very last line either
    FSXMIGRATE-RESULT {"computer":"...","moved":[{"spn":"...","from":"..."}],"added":["..."],"already":["..."]}
or
    FSXMIGRATE-ERROR <message>
with exit code 1; the message says which SPNs had been changed before the error (those changes stay), or that
none was (always so when another object holds an SPN). See README.md beside this file.

.PARAMETER Endpoint
The DNS name (DescribeFileSystems: DNSName) of the file system that must get the SPNs, e.g.
amznfsxb2c3d4e5.corp.example.com. Its computer object is the one whose DNSHostName is this name or, if none
is, the one named after its first label (AMZNFSXB2C3D4E5).

.PARAMETER FromDnsName
The DNS name of the file system that has the SPNs now, e.g. amznfsxa1b2c3d4.corp.example.com. Its computer
object must exist too. The SPNs are taken from this object only: one held by any other object (besides the
target computer) stops the script before any change.

.PARAMETER Aliases
The DNS aliases, as fully qualified domain names (e.g. finance.corp.example.com).

.EXAMPLE
.\spn.ps1 -Endpoint amznfsxb2c3d4e5.corp.example.com -FromDnsName amznfsxa1b2c3d4.corp.example.com -Aliases 'finance.corp.example.com','hr.corp.example.com'
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $Endpoint,

    [Parameter(Mandatory = $true)]
    [string] $FromDnsName,

    [Parameter(Mandatory = $true)]
    [string[]] $Aliases
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

# Straight to stdout: no host formatting that could wrap a long line, and the order of the lines is the
# order of the calls (the RESULT or ERROR line must come last).
function Write-Line([string] $Text) {
    [Console]::Out.WriteLine($Text)
}

# A redirected powershell.exe writes stdout in the OEM code page, which mangles characters outside it; as
# \u escapes the JSON survives any code page.
function ConvertTo-AsciiJson($Value) {
    $json = ConvertTo-Json -InputObject $Value -Compress -Depth 5
    return [regex]::Replace($json, '[^\x00-\x7F]', [System.Text.RegularExpressions.MatchEvaluator] {
            param($m)
            '\u{0:x4}' -f [int][char]$m.Value
        })
}

# A property the directory did not send (an object without SPNs has no servicePrincipalName) must not stop
# the script under StrictMode.
function Get-Prop($Object, [string] $Name) {
    if ($null -eq $Object) { return }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) { return }
    $property.Value
}

# A DNS name as FSx takes it (letters, digits and hyphens in dot-separated labels, at least two labels),
# lowercased and without a trailing dot. Checking it here also keeps quotes and LDAP filter characters out
# of the queries below.
function ConvertTo-DnsName([string] $Name, [string] $What) {
    $name = $Name.Trim().TrimEnd('.').ToLowerInvariant()
    $label = '[a-z0-9]([a-z0-9-]*[a-z0-9])?'
    if ($name -notmatch "^$label(\.$label)+$") {
        throw "$What '$Name' is not a fully qualified DNS name (such as finance.corp.example.com)"
    }
    return $name
}

function Get-FirstLabel([string] $DnsName) {
    return $DnsName.Split('.')[0]
}

# A value in an LDAP filter: the characters of the table in Microsoft's "Search Filter Syntax" (ADSI) as
# \xx escapes. RFC 4515 requires only * ( ) \ and NUL; an escaped '/' (\2f) is valid in both readings.
function ConvertTo-LdapFilterValue([string] $Value) {
    $sb = New-Object System.Text.StringBuilder
    foreach ($c in $Value.ToCharArray()) {
        if ('*()\/'.IndexOf($c) -ge 0 -or [int]$c -eq 0) { [void]$sb.AppendFormat('\{0:x2}', [int]$c) }
        else { [void]$sb.Append($c) }
    }
    return $sb.ToString()
}

# The domain controller every call goes to: a writable one with AD Web Services (which the module talks
# to), preferably a global catalog (domain controllers check that an added SPN is unique in the forest
# against a global catalog, and a removal made on this one is seen there at once).
function Get-DomainControllerName {
    $dc = $null
    try { $dc = Get-ADDomainController -Discover -Service ADWS, GlobalCatalog -Writable }
    catch { $dc = Get-ADDomainController -Discover -Service ADWS -Writable }
    $name = [string](@(Get-Prop $dc 'HostName') | Select-Object -First 1)
    if (-not $name) { throw 'the domain controller found has no host name' }
    return $name
}

# The computer object of a file system: DNSHostName equal to its DNS name or else, as FSx names its computer
# objects after the first label of the DNS name (AMZNFSXA1B2C3D4), that name.
function Find-Computer([string] $DnsName, [string] $Role) {
    $filter = "DNSHostName -eq '{0}'" -f $DnsName.Replace("'", "''")
    $found = @(Get-ADComputer -Server $server -Filter $filter -Properties servicePrincipalName)
    if ($found.Count -gt 1) {
        throw ("{0} computer objects have DNSHostName '{1}': {2}" -f $found.Count, $DnsName, `
            (($found | ForEach-Object { [string]$_.DistinguishedName }) -join '; '))
    }
    if ($found.Count -eq 1) { return $found[0] }
    $label = Get-FirstLabel $DnsName
    try {
        return Get-ADComputer -Server $server -Identity $label -Properties servicePrincipalName
    }
    catch {
        if ($_.Exception.GetType().Name -ne 'ADIdentityNotFoundException') { throw }
        throw ("computer object of the $Role file system not found: no computer has DNSHostName '$DnsName' " + `
                "and none is named '$label' (is the DNS name right, and is this instance in the file system's domain?)")
    }
}

# Every object that holds the SPN (the match is without regard to case: servicePrincipalName is a Unicode
# string attribute), with the values as stored. Account is the name setspn takes for it: the
# sAMAccountName, without the trailing $ for a computer (setspn -D HOST/finance FINANCE).
function Get-SpnHolders([string] $Spn) {
    $filter = '(servicePrincipalName={0})' -f (ConvertTo-LdapFilterValue $Spn)
    $properties = 'servicePrincipalName', 'sAMAccountName'
    foreach ($holder in @(Get-ADObject -Server $server -LDAPFilter $filter -Properties $properties)) {
        $class = [string]$holder.ObjectClass
        $account = [string](Get-Prop $holder 'sAMAccountName')
        if ($class -eq 'computer') { $account = $account.TrimEnd('$') }
        if (-not $account) { $account = [string]$holder.Name }
        [pscustomobject]@{
            Guid    = [guid]$holder.ObjectGUID
            Dn      = [string]$holder.DistinguishedName
            Name    = [string]$holder.Name
            Class   = $class
            Account = $account
            Values  = @(@(Get-Prop $holder 'servicePrincipalName') | ForEach-Object { [string]$_ } | Where-Object { $_ -eq $Spn })
        }
    }
}

# Access denied: the module reports it as UnauthorizedAccessException ("Insufficient access rights to perform
# the operation"), with the PermissionDenied category.
function Test-AccessDenied($ErrorRecord) {
    $e = $ErrorRecord.Exception
    while ($null -ne $e) {
        if ($e -is [System.UnauthorizedAccessException]) { return $true }
        $e = $e.InnerException
    }
    if ([string]$ErrorRecord.CategoryInfo.Category -eq 'PermissionDenied') { return $true }
    return ([string]$ErrorRecord) -match 'Insufficient access rights|Access is denied'
}

$stage = 'starting'
$server = $null
# Changes made, for the message after an error: "removed X from Y", "added X to Y".
$changes = [System.Collections.Generic.List[string]]::new()
$lastLine = $null
$exitCode = 0

try {
    $stage = 'checking the parameters'
    $targetDns = ConvertTo-DnsName $Endpoint '-Endpoint'
    $fromDns = ConvertTo-DnsName $FromDnsName '-FromDnsName'
    if ($targetDns -eq $fromDns) { throw "-Endpoint and -FromDnsName are the same name ($targetDns)" }
    # The SPNs in order: per alias the full name, then the first label; each once (case-insensitive).
    $spns = [System.Collections.Generic.List[string]]::new()
    $seen = [System.Collections.Generic.HashSet[string]]::new([StringComparer]::OrdinalIgnoreCase)
    $aliasCount = 0
    foreach ($alias in @($Aliases | ForEach-Object { $_ -split '[,\s]+' } | Where-Object { $_ })) {
        $aliasDns = ConvertTo-DnsName $alias 'alias'
        $aliasCount++
        foreach ($spn in @("HOST/$aliasDns", "HOST/$(Get-FirstLabel $aliasDns)")) {
            if ($seen.Add($spn)) { $spns.Add($spn) }
        }
    }
    if ($spns.Count -eq 0) { throw 'no alias given' }

    $stage = 'loading the ActiveDirectory PowerShell module'
    if (-not (Get-Module -ListAvailable -Name ActiveDirectory)) {
        throw ('the ActiveDirectory PowerShell module is not installed on this instance; install it with ' + `
                'Install-WindowsFeature RSAT-AD-PowerShell (elevated), then run the script again')
    }
    Import-Module ActiveDirectory -ErrorAction Stop

    $stage = 'finding a domain controller'
    $server = Get-DomainControllerName

    $stage = "finding the computer object of $targetDns"
    $target = Find-Computer $targetDns 'new (-Endpoint)'
    $stage = "finding the computer object of $fromDns"
    $from = Find-Computer $fromDns 'old (-FromDnsName)'
    if ([guid]$target.ObjectGUID -eq [guid]$from.ObjectGUID) {
        throw "$targetDns and $fromDns have the same computer object ($([string]$target.DistinguishedName))"
    }
    $targetName = [string]$target.Name
    $targetDn = [string]$target.DistinguishedName
    $targetGuid = [guid]$target.ObjectGUID
    $fromName = [string]$from.Name
    $fromDn = [string]$from.DistinguishedName
    $fromGuid = [guid]$from.ObjectGUID
    Write-Line ("fsx-migrate spn: {0} SPNs of {1} aliases to {2} ({3}) from {4} ({5}); domain controller {6}" -f `
            $spns.Count, $aliasCount, $targetName, $targetDns, $fromName, $fromDns, $server)

    # Every SPN's holders before the first change. An SPN held by an object that is neither computer (a live
    # server named after the alias, a service account) is that object's name: taking it could break that
    # object, so the script stops here and leaves it to a person.
    $holdersOf = @{}
    $inUse = [System.Collections.Generic.List[string]]::new()
    $setspn = [System.Collections.Generic.List[string]]::new()
    foreach ($spn in $spns) {
        $stage = "looking up the holders of $spn"
        $holders = @(Get-SpnHolders $spn)
        $holdersOf[$spn] = $holders
        $strangers = @($holders | Where-Object { $_.Guid -ne $targetGuid -and $_.Guid -ne $fromGuid })
        if ($strangers.Count -gt 0) {
            $inUse.Add("$spn is held by " + (($strangers | ForEach-Object { "$($_.Name) ($($_.Dn))" }) -join ', '))
            foreach ($holder in $strangers) { $setspn.Add("setspn -D $spn $($holder.Account)") }
        }
    }
    if ($inUse.Count -gt 0) {
        $stage = 'checking the holders of the SPNs'
        $oneSpn = $inUse.Count -eq 1
        $names = $(if ($oneSpn) { "the alias's name is" } else { "the aliases' names are" })
        $objects = $(if ($setspn.Count -eq 1) { 'an object' } else { 'objects' })
        $stale = $(if ($oneSpn) { 'the SPN is' } else { 'an SPN is' })
        throw (("{0}: {1} in use by {2} other than the file systems' computer objects ({3}, {4}), and this " + `
                    "script takes SPNs only from {3}. A person must resolve it: if {5} stale, remove it ({6}) and " + `
                    "run the script again; if not, that name cannot be an alias of the file system") -f `
                ($inUse -join '; '), $names, $objects, $fromName, $targetName, $stale, ($setspn -join '; '))
    }

    $moved = [System.Collections.Generic.List[object]]::new()
    $added = [System.Collections.Generic.List[string]]::new()
    $already = [System.Collections.Generic.List[string]]::new()

    foreach ($spn in $spns) {
        $holders = @($holdersOf[$spn])
        $onTarget = @($holders | Where-Object { $_.Guid -eq $targetGuid }).Count -gt 0
        $onFrom = @($holders | Where-Object { $_.Guid -eq $fromGuid })

        if ($onFrom.Count -gt 0) {
            $stage = "removing $spn from $fromName ($fromDn)"
            # The values as stored (the case may differ from ours); a removal is of the stored value.
            $values = @($onFrom[0].Values)
            if ($values.Count -eq 0) { $values = @($spn) }
            Set-ADComputer -Server $server -Identity $fromDn -ServicePrincipalNames @{ Remove = $values }
            $changes.Add("removed $spn from $fromName")
        }
        if (-not $onTarget) {
            $stage = "adding $spn to $targetName ($targetDn)"
            Set-ADComputer -Server $server -Identity $targetDn -ServicePrincipalNames @{ Add = $spn }
            $changes.Add("added $spn to $targetName")
        }

        if ($onFrom.Count -gt 0) {
            $moved.Add([ordered]@{ spn = $spn; from = $fromName })
            Write-Line "${spn}: moved from $fromName"
        }
        elseif ($onTarget) {
            $already.Add($spn)
            Write-Line "${spn}: already in place"
        }
        else {
            $added.Add($spn)
            Write-Line "${spn}: added (no other object held it)"
        }
    }

    # Every SPN on the target computer and on no other object, as read back from the same domain controller.
    $stage = 'checking the SPNs'
    $problems = [System.Collections.Generic.List[string]]::new()
    foreach ($spn in $spns) {
        $holders = @(Get-SpnHolders $spn)
        $onTarget = @($holders | Where-Object { $_.Guid -eq $targetGuid }).Count -gt 0
        $others = @($holders | Where-Object { $_.Guid -ne $targetGuid })
        if (-not $onTarget -or $others.Count -gt 0) {
            $names = @($holders | ForEach-Object { $_.Name })
            $problems.Add("$spn is on " + $(if ($names.Count -gt 0) { $names -join ', ' } else { 'no object' }))
        }
    }
    if ($problems.Count -gt 0) {
        throw ("after the changes, not every SPN is on {0} alone: {1}" -f $targetName, ($problems -join '; '))
    }
    Write-Line ("Checked: the {0} SPNs are on {1} and on no other object" -f $spns.Count, $targetName)

    $result = [ordered]@{ computer = $targetName; moved = $moved; added = $added; already = $already }
    $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson $result)
}
catch {
    $message = "{0}: {1}" -f $stage, $_.ToString().Trim()
    if ($message -notmatch '[.!?)]$') { $message += '.' }
    if (Test-AccessDenied $_) {
        $who = [Security.Principal.WindowsIdentity]::GetCurrent()
        $identity = $who.Name
        if ($who.User.Value -eq 'S-1-5-18') { $identity += " (on the network the instance's computer account, $env:COMPUTERNAME`$)" }
        $message += " ACCESS DENIED: $identity needs the right to write servicePrincipalName on both file systems' " + `
            'computer objects (e.g. membership of Domain Admins, or that right delegated on the objects or their OU).'
    }
    elseif ($_.ToString() -match 'not unique forest-wide') {
        $message += ' (Another object in the forest, possibly in another domain, holds the SPN; find it with setspn -Q <spn>.)'
    }
    if ($changes.Count -eq 0) {
        $message += ' No SPN was changed.'
    }
    else {
        $message += (" Changes made before the error stay: {0}. Run the script again to finish the move (it " + `
                "skips what is already in place); until then an SPN removed but not yet added is on no object, " + `
                "and Kerberos to that name fails.") -f ($changes -join ', ')
    }
    $lastLine = 'FSXMIGRATE-ERROR ' + ($message -replace '\s*[\r\n]+\s*', ' ')
    $exitCode = 1
}

Write-Line $lastLine
[Console]::Out.Flush()
exit $exitCode
