"""A small built-in list of common passwords (`domain.passwords.check_password`).

Why a module and not a data file: it is a rule of the domain, read once at import with the
standard library only, and it ships inside the package with nothing to configure (a data file
would need package data, a resource lookup and an encoding). Why this list: the passwords and
base words that lead every public list of leaked passwords (runs of digits, keyboard walks,
"password" in its languages and spellings, names, teams, places, words people pick), plus the
service's own name. The policy also strips digits and symbols added at either end before it
looks, so "Summer2024!" is refused as "summer": a few hundred bases cover many thousands of
variants. Entries are lower case; a password is compared case-insensitively. It is a floor,
not a breach corpus: the minimum length does most of the work."""

from __future__ import annotations

from typing import Final

# Text split on whitespace (SIM905 would have a literal list: ~500 lines of one word each).
COMMON_PASSWORDS: Final[frozenset[str]] = frozenset(
    """
password passw0rd p@ssw0rd p@ssword pa55word pa55w0rd passwort motdepasse contrasena senha
parola wachtwoord salasana haslo heslo jelszo lozinka sifre passord adgangskode
passwordpassword password1password mypassword newpassword oldpassword secretpassword
yourpassword thepassword defaultpassword changeme changemenow changeit default secret topsecret
mysecret letmein letmeinnow letmein123 welcome welcomehome welcometo welcome1 admin
administrator admin123 adminadmin root toor rootroot superuser sysadmin webmaster guest user
username login logon test testing tester test1234 testtest demo sample example temp temporary
temppassword qwerty qwertz azerty qwertyuiop qwertyuiopasdfghjkl qwertyuiopasdfghjklzxcvbnm
qwertyqwerty qwerty123456 qwer asdf asdfasdf asdfgh asdfghjkl asdfghjkl123 zxcv zxcvbn zxcvbnm
zxcvbnmasdfghjkl qazwsx qazwsxedc qazwsxedcrfv qazwsxedcrfvtgb 1qaz2wsx 1qaz2wsx3edc
1qaz2wsx3edc4rfv 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1q2w3e4r5t6y7u q1w2e3r4t5y6 q1w2e3r4 zaq12wsx
zaq12wsxcde3 zaq1xsw2 1qazxsw2 qweasdzxc qweasdzxc123 qwe123qwe asd123asd zxc123zxc abc abcd
abcdef abcdefg abcdefgh abcdefghijkl abcdefghijklmnop abcabcabcabc abc123abc123 aaaaaaaaaaaa
aaaaaaaaaaaaaaaa abababababab iloveyou iloveyouiloveyou iloveu iloveyou2 iloveme loveyou
lovelove love loveme lovely 123456789012 1234567890123 12345678901234 123456789012345
1234567890123456 111111111111 000000000000 999999999999 123123123123 121212121212 112233445566
123456123456 123412341234 987654321098 098765432109 147258369147 123456654321 159753159753
741852963741 135792468135 abc123456789 1234567890qwerty 1234qwerasdf qwerty1234567
password123456 password12345 password1234 password123 password12 password1 dragon monkey shadow
master mustang michael superman batman spiderman ironman starwars trustno1 trustnoone football
baseball basketball soccer hockey golf tennis cricket killer jordan jennifer hunter buster
harley andrew tigger sunshine charlie robert thomas ranger daniel george computer michelle
jessica pepper freedom maggie ginger princess joshua cheese amanda summer winter spring autumn
ashley nicole chelsea biteme matthew access yankees dallas austin thunder taylor matrix
whatever nothing something anything everything someone nobody everybody internet google
facebook instagram twitter linkedin microsoft windows apple samsung iphone android linux ubuntu
oracle mysql postgres postgresql database server network system security firewall office
company business archivist archive archives document documents library manager management hello
helloworld hellohello goodbye forever together friends family happy happiness smile beautiful
pretty angel angels heaven devil purple orange yellow silver golden diamond crystal rainbow
butterfly flower flowers sunflower chocolate cookie cookies banana cherry strawberry pumpkin
peanut coffee pizza dolphin dolphins tiger lion eagle falcon phoenix wolf wolves panther jaguar
cowboy cowboys rangers lakers bulls eagles patriots steelers liverpool arsenal chelseafc
manchester manutd barcelona realmadrid juventus bayern flamingo blink182 metallica nirvana
slipknot eminem beatles pokemon naruto pikachu minecraft fortnite roblox zelda mario nintendo
playstation xbox superstar rockstar mylove babygirl baby princesa loveyou2 sweetheart honey
sugar michaelj jesus jesuschrist god godisgood blessed christ faith church angel1 hallelujah
january february march april may june july august september october november december monday
tuesday wednesday thursday friday saturday sunday weekend holiday christmas newyork london
paris berlin tokyo seoul california texas florida chicago boston america canada australia
germany france england korea japan china india brazil mexico saranghae saranghaeyo sarang
aishiteru woaini teamo jetaime ichliebedich qwer1234 asdf1234 zxcv1234 1234qwer 1234asdf wjdgus
dkssud dkssudgktpdy rkskek gkgkgk tkfkdgo qkqh alswn 01012345678 0987654321 1q2w3e 1qaz 2wsx
3edc 4rfv correcthorsebatterystaple correcthorse horsebattery thequickbrownfox
thequickbrownfoxjumpsoverthelazydog lazydog quickbrownfox opensesame letitbe letmeinplease
iamthebest iamgod youareit whoami nopassword noaccess notmypassword forgotpassword forgot
mypass mypassword1 passpass passwd pass pass1234 pw123456 pwd12345 sesame loginlogin userpass
userpassword adminpass adminpassword rootpassword masterkey masterpassword skeleton keyboard
mouse monitor laptop desktop qwertyuiop123 asdfghjkl1234 zxcvbnm123456 poiuytrewq lkjhgfdsa
mnbvcxz
""".split()  # noqa: SIM905
)
