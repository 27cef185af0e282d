<#
.SYNOPSIS
Reads, sets or checks the DNS CNAME record of a name kept in Active Directory-integrated DNS (the name users
know for an FSx for Windows File Server file system, e.g. files.corp.example.com).

.DESCRIPTION
Runs on a domain-joined Windows host; fsx-migrate sends it through SSM AWS-RunPowerShellScript. Read and Set
need the DNS Server PowerShell module (DnsServer, from RSAT-DNS-Server) and talk to the first of
-DnsServers (a domain controller) with -ComputerName; Check needs only the DNS client (Resolve-DnsName).

The record's name inside the zone is -Name without ".<ZoneName>" (compared without regard to case): for
files.corp.example.com in corp.example.com it is "files". A -Name equal to the zone (the zone apex cannot be
a CNAME) or outside it is an error.

-Action Read: the records of that name on the first server (Get-DnsServerResourceRecord, any type); "not
found" is no error.
    FSXMIGRATE-RESULT {"record":{"name":"...","type":"CNAME","values":["target."],"ttl":300}}
or  FSXMIGRATE-RESULT {"record":null}

-Action Set (needs -Value and -Ttl): on the first server, makes the name a CNAME to -Value with TTL -Ttl:
a CNAME already there is replaced (Set-DnsServerResourceRecord with -OldInputObject and a copy of it as
-NewInputObject), or left alone when it already has that target and TTL; with no record of that name one is
added (Add-DnsServerResourceRecordCName). A record of another type (A, etc.) of that name stops the script
before any change: a name cannot hold a CNAME and another record, and this script removes nothing. Then it
reads the record back.
    FSXMIGRATE-RESULT {"record":{...as Read...},"changed":true}

-Action Check (needs -Value): asks EVERY server of -DnsServers for the name's CNAME (Resolve-DnsName -Type
CNAME -Server <server> -DnsOnly -NoHostsFile -QuickTimeout). Active Directory replicates the zone between
domain controllers, so they answer the new target at different times.
    FSXMIGRATE-RESULT {"servers":[{"server":"dc1...","values":["target"],"ttl":60},{"server":"dc2...","error":"..."}],"all_answer_value":false}

Otherwise the last line is FSXMIGRATE-ERROR <message> with exit code 1. See README.md beside this file.

.PARAMETER Action
Read, Set or Check.

.PARAMETER Name
The record's fully qualified name, e.g. files.corp.example.com.

.PARAMETER ZoneName
The DNS zone that holds it, e.g. corp.example.com.

.PARAMETER DnsServers
The DNS servers (domain controllers), as names or IP addresses. Read and Set use the first; Check asks each.

.PARAMETER Value
The CNAME's target, a fully qualified name (the file system's DNS name, e.g.
amznfsxb2c3d4e5.corp.example.com). Needed by Set and Check.

.PARAMETER Ttl
The record's time to live in seconds (Set).

.EXAMPLE
.\dns.ps1 -Action Set -Name files.corp.example.com -ZoneName corp.example.com -DnsServers dc1.corp.example.com,dc2.corp.example.com -Value amznfsxb2c3d4e5.corp.example.com -Ttl 60
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $Action,

    [Parameter(Mandatory = $true)]
    [string] $Name,

    [Parameter(Mandatory = $true)]
    [string] $ZoneName,

    [Parameter(Mandatory = $true)]
    [string[]] $DnsServers,

    [string] $Value = '',

    [int] $Ttl = -1
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

# A property the cmdlets did not fill must not stop the script under StrictMode.
function Get-Prop($Object, [string] $Name) {
    if ($null -eq $Object) { return }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property -or $null -eq $property.Value) { return }
    $property.Value
}

# A DNS name (letters, digits and hyphens in dot-separated labels, at least two labels), lowercased and
# without a trailing dot. Checking it here also keeps quotes out of the messages and calls below.
function ConvertTo-DnsName([string] $Text, [string] $What) {
    $dnsName = $Text.Trim().TrimEnd('.').ToLowerInvariant()
    $label = '[a-z0-9]([a-z0-9-]*[a-z0-9])?'
    if ($dnsName -notmatch "^$label(\.$label)+$") {
        throw "$What '$Text' is not a fully qualified DNS name (such as files.corp.example.com)"
    }
    return $dnsName
}

# A DNS server: an IP address, or a host name (a single label is allowed: the resolver completes it).
function ConvertTo-ServerName([string] $Text) {
    $server = $Text.Trim().TrimEnd('.')
    $address = $null
    if ([System.Net.IPAddress]::TryParse($server, [ref] $address)) { return $server }
    $label = '[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?'
    if ($server -notmatch "^$label(\.$label)*$") {
        throw "-DnsServers: '$Text' is neither an IP address nor a host name"
    }
    return $server
}

# A CNAME target for comparisons: lowercase, without the trailing dot.
function Get-Comparable([string] $Text) {
    return $Text.Trim().TrimEnd('.').ToLowerInvariant()
}

# The DnsServer cmdlets report the DNS server's Win32 code in the error id ("WIN32 9714,Get-Dns...").
function Test-Win32Code($ErrorRecord, [int] $Code) {
    return ([string]$ErrorRecord.FullyQualifiedErrorId) -like "WIN32 $Code,*"
}

# Access denied: Win32 5 from the DNS server, or the PermissionDenied category.
function Test-AccessDenied($ErrorRecord) {
    if (Test-Win32Code $ErrorRecord 5) { return $true }
    $e = $ErrorRecord.Exception
    while ($null -ne $e) {
        if ($e -is [System.UnauthorizedAccessException]) { return $true }
        $e = $e.InnerException
    }
    if ([string]$ErrorRecord.CategoryInfo.Category -eq 'PermissionDenied') { return $true }
    return ([string]$ErrorRecord) -match 'Access is denied|Access denied'
}

# The records of the name on the first server, of any type, in the order the server gives them. Without
# -Node the cmdlet also returns the records of names below it (x.files for files), so only those whose
# HostName is the name itself are kept. A name without records is WIN32 9714 (DNS_ERROR_NAME_DOES_NOT_EXIST):
# no records, not an error.
function Get-NameRecords {
    $found = @()
    try {
        $found = @(Get-DnsServerResourceRecord -ComputerName $server -ZoneName $zone -Name $relative)
    }
    catch {
        if (Test-Win32Code $_ 9714) { return }
        throw
    }
    foreach ($record in $found) {
        $hostName = ([string](Get-Prop $record 'HostName')).TrimEnd('.')
        if ($hostName -eq $relative -or $hostName -eq $recordName) { $record }
    }
}

function Get-RecordType($Record) {
    return ([string](Get-Prop $Record 'RecordType')).ToUpperInvariant()
}

# One record's data as text: the CNAME target as stored (with its trailing dot), the address of an A or AAAA
# record, otherwise the record data's properties as name=value.
function Get-RecordValue($Record) {
    $data = Get-Prop $Record 'RecordData'
    if ($null -eq $data) { return '' }
    switch (Get-RecordType $Record) {
        'CNAME' { return [string](Get-Prop $data 'HostNameAlias') }
        'A' { return [string](Get-Prop $data 'IPv4Address') }
        'AAAA' { return [string](Get-Prop $data 'IPv6Address') }
    }
    $cimProperties = Get-Prop $data 'CimInstanceProperties'
    if ($null -eq $cimProperties) { return [string]$data }
    $parts = @($cimProperties | Where-Object { $null -ne $_.Value -and $_.Name -ne 'PSComputerName' } |
            ForEach-Object { '{0}={1}' -f $_.Name, (@($_.Value) -join ' ') })
    return ($parts -join ', ')
}

function Get-TtlSeconds($Record) {
    $timeToLive = Get-Prop $Record 'TimeToLive'
    if ($null -eq $timeToLive) { return $null }
    return [long][Math]::Round(([TimeSpan]$timeToLive).TotalSeconds)
}

# The record as the RESULT gives it: the first record's type, the values of every record of that type, the
# first record's TTL; $null without records. The values are a List: Windows PowerShell's ConvertTo-Json
# writes an array that went through a function's output as {"value":[...],"Count":n}.
function ConvertTo-RecordResult($Records) {
    $all = @($Records)
    if ($all.Count -eq 0) { return $null }
    $type = Get-RecordType $all[0]
    $values = [System.Collections.Generic.List[string]]::new()
    foreach ($record in $all) {
        if ((Get-RecordType $record) -eq $type) { $values.Add((Get-RecordValue $record)) }
    }
    return [ordered]@{ name = $recordName; type = $type; values = $values; ttl = (Get-TtlSeconds $all[0]) }
}

function Format-Record($Result) {
    if ($null -eq $Result) { return 'no record' }
    return '{0} {1} (TTL {2})' -f $Result['type'], ($Result['values'] -join ', '), $Result['ttl']
}

$stage = 'starting'
$act = $null
$server = $null
$zone = $null
$relative = $null
$recordName = $null
$change = $null
$lastLine = $null
$exitCode = 0

try {
    $stage = 'checking the parameters'
    $actions = @{ 'read' = 'Read'; 'set' = 'Set'; 'check' = 'Check' }
    $actionKey = $Action.Trim().ToLowerInvariant()
    if (-not $actions.ContainsKey($actionKey)) { throw "-Action '$Action' is not Read, Set or Check" }
    $act = $actions[$actionKey]
    $recordName = ConvertTo-DnsName $Name '-Name'
    $zone = ConvertTo-DnsName $ZoneName '-ZoneName'
    if ($recordName -eq $zone) {
        throw "-Name $recordName is the zone $zone itself: the zone apex cannot be a CNAME"
    }
    if (-not $recordName.EndsWith(".$zone")) { throw "-Name $recordName is not in the zone $zone" }
    $relative = $recordName.Substring(0, $recordName.Length - $zone.Length - 1)
    $servers = [System.Collections.Generic.List[string]]::new()
    foreach ($item in @($DnsServers | ForEach-Object { $_ -split '[,\s]+' } | Where-Object { $_ })) {
        $servers.Add((ConvertTo-ServerName $item))
    }
    if ($servers.Count -eq 0) { throw 'no DNS server given (-DnsServers)' }
    $server = $servers[0]
    $target = $null
    if ($act -ne 'Read') {
        if (-not $Value.Trim()) { throw "-Action $act needs -Value (the CNAME's target)" }
        $target = ConvertTo-DnsName $Value '-Value'
    }
    if ($act -eq 'Set' -and $Ttl -lt 0) { throw '-Action Set needs -Ttl (seconds, 0 or more)' }

    if ($act -eq 'Check') {
        Write-Line ("fsx-migrate dns: Check that {0} is a CNAME to {1} on {2} DNS servers: {3}" -f `
                $recordName, $target, $servers.Count, ($servers -join ', '))
        $answers = [System.Collections.Generic.List[object]]::new()
        $allMatch = $true
        $matching = 0
        foreach ($dnsServer in $servers) {
            $stage = "asking $dnsServer"
            try {
                $reply = @(Resolve-DnsName -Name $recordName -Type CNAME -Server $dnsServer -DnsOnly -NoHostsFile -QuickTimeout)
                $cnames = @($reply | Where-Object {
                        [string](Get-Prop $_ 'Type') -eq 'CNAME' -and
                        ([string](Get-Prop $_ 'Section') -eq 'Answer' -or $null -eq (Get-Prop $_ 'Section')) -and
                        (Get-Comparable ([string](Get-Prop $_ 'Name'))) -eq $recordName
                    })
            }
            catch {
                # NXDOMAIN is an answer: the server has no record of that name (yet, or any more).
                if (([string]$_.FullyQualifiedErrorId) -like 'DNS_ERROR_RCODE_NAME_ERROR,*') {
                    $cnames = @()
                }
                else {
                    $message = ([string]$_).Trim() -replace '\s*[\r\n]+\s*', ' '
                    $answers.Add([ordered]@{ server = $dnsServer; error = $message })
                    $allMatch = $false
                    Write-Line "${dnsServer}: no answer: $message"
                    continue
                }
            }
            $values = [System.Collections.Generic.List[string]]::new()
            foreach ($cname in $cnames) { $values.Add(([string](Get-Prop $cname 'NameHost')).TrimEnd('.')) }
            $answerTtl = $null
            if ($cnames.Count -gt 0) { $answerTtl = [long](Get-Prop $cnames[0] 'TTL') }
            $answers.Add([ordered]@{ server = $dnsServer; values = $values; ttl = $answerTtl })
            $answered = $values.Count -eq 1 -and (Get-Comparable $values[0]) -eq $target
            if ($answered) { $matching++ } else { $allMatch = $false }
            if ($values.Count -eq 0) { Write-Line "${dnsServer}: no CNAME for $recordName" }
            else {
                Write-Line ("{0}: {1} (TTL {2}){3}" -f $dnsServer, ($values -join ', '), $answerTtl, `
                    $(if ($answered) { '' } else { " - not $target yet" }))
            }
        }
        Write-Line ("{0} of {1} DNS servers answer {2}" -f $matching, $servers.Count, $target)
        $result = [ordered]@{ servers = $answers; all_answer_value = $allMatch }
        $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson $result)
    }
    else {
        $stage = 'loading the DnsServer PowerShell module'
        if (-not (Get-Module -ListAvailable -Name DnsServer)) {
            throw ('the DnsServer PowerShell module is not installed on this instance; install it with ' + `
                    'Install-WindowsFeature RSAT-DNS-Server (elevated), then run the script again')
        }
        Import-Module DnsServer -ErrorAction Stop

        $stage = "reading the zone $zone on $server"
        try {
            $zoneInfo = Get-DnsServerZone -ComputerName $server -Name $zone
        }
        catch {
            if (Test-Win32Code $_ 9601) {
                throw ("the zone $zone was not found on the DNS server $server (is -ZoneName the zone that holds " + `
                        "$recordName, and is $server a DNS server that hosts it?)")
            }
            throw
        }
        $zoneType = [string](Get-Prop $zoneInfo 'ZoneType')
        $dsIntegrated = [bool](Get-Prop $zoneInfo 'IsDsIntegrated')
        Write-Line ("fsx-migrate dns: {0} {1} (record {2} in zone {3}) on {4}; zone: {5}{6}" -f $act, $recordName, `
                $relative, $zone, $server, $(if ($zoneType) { $zoneType } else { 'type unknown' }), `
                $(if ($dsIntegrated) { ', Active Directory-integrated' } else { ', not Active Directory-integrated' }))

        $stage = "reading the records of $recordName on $server"
        $records = @(Get-NameRecords)
        # The dictionary itself, not the PSObject that wraps a function's output: ConvertTo-Json of Windows
        # PowerShell 5.1 can add such a wrapper's extra members to the JSON.
        $before = ConvertTo-RecordResult $records
        if ($null -ne $before) { $before = $before.PSObject.BaseObject }
        Write-Line ("{0}: {1}" -f $recordName, (Format-Record $before))

        if ($act -eq 'Read') {
            $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson ([ordered]@{ record = $before }))
        }
        else {
            $stage = "setting $recordName to $target on $server"
            if ($zoneType -and $zoneType -ne 'Primary') {
                throw "the zone $zone is a $zoneType zone on $server, which cannot be changed there; give a DNS server that holds a primary copy of the zone first in -DnsServers"
            }
            $others = @($records | Where-Object { (Get-RecordType $_) -ne 'CNAME' })
            if ($others.Count -gt 0) {
                $found = @($others | ForEach-Object { '{0} {1}' -f (Get-RecordType $_), (Get-RecordValue $_) })
                $types = @($others | ForEach-Object { Get-RecordType $_ } | Select-Object -Unique)
                throw (("{0} already has a record of another type ({1}) on {2}, and a name cannot hold a CNAME " + `
                            "and another record. This script removes nothing: a person decides (e.g. " + `
                            "Remove-DnsServerResourceRecord -ComputerName {2} -ZoneName {3} -Name {4} -RRType {5}), " + `
                            "then runs it again") -f $recordName, ($found -join '; '), $server, $zone, $relative, $types[0])
            }
            $cnames = @($records | Where-Object { (Get-RecordType $_) -eq 'CNAME' })
            $changed = $false
            if ($cnames.Count -gt 1) {
                throw "$recordName has $($cnames.Count) CNAME records on $server ($(($before['values']) -join ', ')); a person must remove all but one"
            }
            if ($cnames.Count -eq 1) {
                $old = $cnames[0]
                $oldTarget = Get-Comparable (Get-RecordValue $old)
                $oldTtl = Get-TtlSeconds $old
                if ($oldTarget -eq $target -and $oldTtl -eq $Ttl) {
                    Write-Line "$recordName is already a CNAME to $target with TTL ${Ttl}: nothing to change"
                }
                else {
                    # The copy pattern of Microsoft's Set-DnsServerResourceRecord example: a detailed copy of
                    # the record, changed, as -NewInputObject; the record as read as -OldInputObject.
                    $new = [Microsoft.Management.Infrastructure.CimInstance]::new($old)
                    $new.RecordData.HostNameAlias = "$target."
                    $new.TimeToLive = [TimeSpan]::FromSeconds($Ttl)
                    Set-DnsServerResourceRecord -ComputerName $server -ZoneName $zone -OldInputObject $old -NewInputObject $new -Confirm:$false
                    $changed = $true
                    $change = "replaced the CNAME $recordName -> $(Get-RecordValue $old) (TTL $oldTtl) by -> $target. (TTL $Ttl)"
                    Write-Line "Done on ${server}: $change"
                }
            }
            else {
                Add-DnsServerResourceRecordCName -ComputerName $server -ZoneName $zone -Name $relative -HostNameAlias $target -TimeToLive ([TimeSpan]::FromSeconds($Ttl)) -Confirm:$false
                $changed = $true
                $change = "added the CNAME $recordName -> $target (TTL $Ttl)"
                Write-Line "Done on ${server}: $change"
            }

            $stage = "reading $recordName back from $server"
            $after = ConvertTo-RecordResult @(Get-NameRecords)
            if ($null -ne $after) { $after = $after.PSObject.BaseObject }
            $ok = $null -ne $after -and $after['type'] -eq 'CNAME' -and $after['values'].Count -eq 1 -and `
            (Get-Comparable $after['values'][0]) -eq $target -and $after['ttl'] -eq $Ttl
            if (-not $ok) { throw "after the change $server has $(Format-Record $after), not a CNAME to $target with TTL $Ttl" }
            Write-Line ("Checked on {0}: {1}" -f $server, (Format-Record $after))
            $result = [ordered]@{ record = $after; changed = $changed }
            $lastLine = 'FSXMIGRATE-RESULT ' + (ConvertTo-AsciiJson $result)
        }
    }
}
catch {
    $message = "{0}: {1}" -f $stage, $_.ToString().Trim()
    if ($message -notmatch '[.!?)]$') { $message += '.' }
    if (Test-AccessDenied $_) {
        $who = [Security.Principal.WindowsIdentity]::GetCurrent()
        $identity = $who.Name
        if ($who.User.Value -eq 'S-1-5-18') { $identity += " (on the network the instance's computer account, $env:COMPUTERNAME`$)" }
        $message += (" ACCESS DENIED: {0} needs the right to read and change the records of the zone {1} on {2}: " + `
                "membership of DnsAdmins, of AWS Delegated Domain Name System Administrators with AWS Managed " + `
                "Microsoft AD, or that right delegated on the zone (a new membership reaches the instance's " + `
                "Kerberos tickets after a restart or klist -li 0x3e7 purge).") -f $identity, $zone, $server
    }
    elseif (Test-Win32Code $_ 1722) {
        $message += " (The DnsServer cmdlets reach the DNS server over RPC: is $server the right name, and is it reachable from this instance?)"
    }
    if ($null -ne $change) {
        $message += " The record was changed before the error: $change."
    }
    elseif ($act -eq 'Set') {
        $message += ' No record was changed.'
    }
    $lastLine = 'FSXMIGRATE-ERROR ' + ($message -replace '\s*[\r\n]+\s*', ' ')
    $exitCode = 1
}

Write-Line $lastLine
[Console]::Out.Flush()
exit $exitCode
